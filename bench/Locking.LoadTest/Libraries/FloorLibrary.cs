using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>
/// The floor: a raw StackExchange.Redis loop sending exactly Locking's store commands (the same acquire and release
/// scripts with the same keys and arguments, built by the same code: <see cref="LeaseArguments"/> and
/// <see cref="RedisLeaseScripts"/>), without anything else of the library: no lease object, no validity clock, no
/// renewal scheduler, no reentrancy mark, no telemetry. Locking's ratio to this is what its own work costs on top of
/// the commands it must send.
/// </summary>
/// <remarks>
/// A waiter waits the way Locking's one-primary store does, so that the handoff cases compare the same protocol: its
/// first acquire takes a place in the key's queue in Redis, the release script grants the key to the head of the
/// queue and tells only that waiter (in the release's answer when it is of the same instance, else by a notice on the
/// key's own channel), and a waiter that hears nothing within a third of its place's lifetime sends the same acquire
/// again to keep its place; at its deadline it leaves with the release script. What it leaves out: the key's channel
/// is subscribed the first time a key is waited for and stays subscribed (no linger, no unsubscribe), the waiter's
/// entry is registered before its first acquire (so no grant can come before it and none needs to be kept), and a
/// waiter whose place was lost queues again under the same id.
/// </remarks>
internal sealed class FloorLibrary : LockLibrary<LeaseArguments>
{
    private readonly IDatabase _database;
    private readonly ISubscriber _subscriber;
    private readonly RedisKeyspace _keyspace = new(RedisLockProviderOptions.Default.KeyPrefix);
    private readonly ProcessId _process = new();
    private readonly LeaseScriptSettings _settings;
    private readonly bool _sharded;
    private readonly ConcurrentDictionary<string, Task> _subscribed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<long>> _waiters = new();
    private readonly Action<RedisChannel, RedisValue> _onNotice;
    private long _ttlMs;
    private long _queueLifetimeMs;

    public FloorLibrary(ConnectionMultiplexer connection)
        : base(connection)
    {
        _database = connection.GetDatabase();
        _subscriber = connection.GetSubscriber();
        _settings = new LeaseScriptSettings(RedisLeaseStore.ToMilliseconds(RedisLockProviderOptions.Default.FencingCounterRetention), RedisValue.EmptyString, _process);
        // The scripts SPUBLISH where the server has it (Redis 7+), as Locking's notices subscribe.
        _sharded = connection.GetServer(connection.GetEndPoints()[0]).Version >= new Version(7, 0);
        _onNotice = OnNotice;
    }

    protected override void OnConfigured()
    {
        _ttlMs = RedisLeaseStore.ToMilliseconds(Ttl);
        var lifetime = RedisLockProviderOptions.Default.QueuedWaiterTimeout;
        _queueLifetimeMs = Wait == TimeSpan.Zero ? 0 : RedisLeaseStore.ToMilliseconds(Ttl < lifetime ? Ttl : lifetime);
    }

    public override async ValueTask<LeaseArguments?> TryAcquireAsync(string key, CancellationToken cancellationToken)
    {
        var owner = OwnerToken.New();
        var lease = new LeaseArguments(_settings, _keyspace.LockKey(key), owner, _ttlMs, _queueLifetimeMs, owner, LeaseMode.Grant);
        if (_queueLifetimeMs == 0)
        {
            var answer = await RedisLeaseScripts.RunToEndAsync(_database, RedisLeaseScripts.Script.Acquire, lease);
            return RedisLeaseScripts.AcquireResult.From(answer).Granted ? lease : null;
        }

        return await AcquireOrWaitAsync(lease, cancellationToken) ? lease : null;
    }

    private async ValueTask<bool> AcquireOrWaitAsync(LeaseArguments lease, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Wait;
        var refreshEvery = TimeSpan.FromMilliseconds(lease.QueueLifetimeMs / 3.0);
        await _subscribed.GetOrAdd(lease.LockKey, lockKey => _subscriber.SubscribeAsync(Channel(lockKey), _onNotice));
        var grant = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters[lease.Owner] = grant;
        var done = false;
        try
        {
            var answer = await AcquireAsync(lease);
            var keepPlace = lease.KeepingPlace();
            while (!answer.Granted)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    // Leave the queue; a grant that came meanwhile is released by the same script.
                    await ReleaseAsync(lease);
                    done = true;
                    return false;
                }

                try
                {
                    await grant.Task.WaitAsync(left < refreshEvery ? left : refreshEvery, cancellationToken);
                    done = true;
                    return true;
                }
                catch (TimeoutException)
                {
                }

                answer = await AcquireAsync(keepPlace);
                if (answer.PlaceLost)
                {
                    answer = await AcquireAsync(lease);
                }
            }

            done = true;
            return true;
        }
        finally
        {
            _waiters.TryRemove(lease.Owner, out _);
            if (!done)
            {
                // Cancelled: leave the queue (or give back a grant) without holding the caller up.
                _ = ReleaseAsync(lease);
            }
        }
    }

    private RedisChannel Channel(string lockKey)
    {
        var name = RedisKeyspace.NoticeChannel(lockKey);
        return _sharded ? RedisChannel.Sharded(name) : RedisChannel.Literal(name);
    }

    /// <summary>A grant notice: completes the waiter it names, when that waiter is of this instance.</summary>
    private void OnNotice(RedisChannel channel, RedisValue message)
    {
        if (RedisLeaseScripts.ReadGrantNotice(message) is { } notice && _process.Is(notice.Process.Span)
            && _waiters.TryGetValue(notice.Waiter, out var waiter))
        {
            waiter.TrySetResult(notice.Token);
        }
    }

    private async ValueTask<RedisLeaseScripts.AcquireResult> AcquireAsync(LeaseArguments lease)
        => RedisLeaseScripts.AcquireResult.From(await RedisLeaseScripts.RunToEndAsync(_database, RedisLeaseScripts.Script.Acquire, lease));

    public override ValueTask ReleaseAsync(string key, LeaseArguments lease) => ReleaseAsync(lease);

    private async ValueTask ReleaseAsync(LeaseArguments lease)
    {
        var answer = RedisLeaseScripts.ReleaseResult.From(await RedisLeaseScripts.RunToEndAsync(_database, RedisLeaseScripts.Script.Release, lease));
        // A grant to a waiter of this instance comes in the answer, not as a notice.
        if (answer.GrantedTo is { } next && _waiters.TryGetValue(next, out var waiter))
        {
            waiter.TrySetResult(answer.GrantedToken);
        }
    }

    public override bool IsLost(LeaseArguments handle) => false;
}
