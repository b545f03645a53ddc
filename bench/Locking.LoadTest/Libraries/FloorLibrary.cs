using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>
/// The floor: a raw StackExchange.Redis loop sending exactly Locking's store commands (the same acquire and release
/// scripts with the same keys and arguments, built by the same code), without anything else of the library: no
/// lease object, no validity clock, no renewal scheduler, no reentrancy check, no wait queue, no telemetry. A waiter
/// sleeps until a release notice for its key (or a 50 ms safety re-check) and then races the others.
/// Locking's ratio to this is what its own work costs on top of the commands it must send.
/// </summary>
internal sealed class FloorLibrary : LockLibrary<LeaseArguments>
{
    private static readonly TimeSpan s_recheck = TimeSpan.FromMilliseconds(50);

    private readonly IDatabase _database;
    private readonly RedisKeyspace _keyspace = new(RedisLockProviderOptions.Default.KeyPrefix);
    private readonly long _counterRetentionMs = (long)RedisLockProviderOptions.Default.FencingCounterRetention.TotalMilliseconds;
    private readonly ConcurrentDictionary<string, ReleaseSignal> _signals = new(StringComparer.Ordinal);
    private long _ttlMs;
    private int _subscribed;

    public FloorLibrary(ConnectionMultiplexer connection)
        : base(connection)
    {
        _database = connection.GetDatabase();
    }

    protected override void OnConfigured() => _ttlMs = (long)Ttl.TotalMilliseconds;

    public override async ValueTask<LeaseArguments?> TryAcquireAsync(string key, CancellationToken cancellationToken)
    {
        var lease = new LeaseArguments(_keyspace.LockKey(key), new Guid(RandomNumberGenerator.GetBytes(16)), _ttlMs, _counterRetentionMs, _keyspace.ReleaseChannelName);
        if (await RunAsync(RedisLeaseScripts.Script.Acquire, lease) > 0)
        {
            return lease;
        }

        return Wait == TimeSpan.Zero ? null : await WaitAsync(lease, cancellationToken);
    }

    /// <summary>One script, by SHA1; by its text when the server does not know it yet.</summary>
    private async ValueTask<long> RunAsync(RedisLeaseScripts.Script script, LeaseArguments lease)
    {
        try
        {
            return (long)await RedisLeaseScripts.Run(_database, script, lease);
        }
        catch (RedisServerException ex) when (RedisLeaseScripts.IsNoScript(ex))
        {
            return (long)await RedisLeaseScripts.Run(_database, script, lease, byText: true);
        }
    }

    private async ValueTask<LeaseArguments?> WaitAsync(LeaseArguments lease, CancellationToken cancellationToken)
    {
        var deadline = Wait == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + Wait;
        await EnsureSubscribedAsync();
        var signal = _signals.GetOrAdd(lease.LockKey, static _ => new ReleaseSignal());
        while (true)
        {
            // Take the signal's generation before trying, so a release between the try and the wait still wakes us.
            var released = signal.Next;
            if (await RunAsync(RedisLeaseScripts.Script.Acquire, lease) > 0)
            {
                return lease;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            try
            {
                await released.WaitAsync(left < s_recheck ? left : s_recheck, cancellationToken);
            }
            catch (TimeoutException)
            {
                // A holder that died releases nothing: re-check now and then.
            }
        }
    }

    private async Task EnsureSubscribedAsync()
    {
        if (Volatile.Read(ref _subscribed) != 0)
        {
            return;
        }

        // The notice is the released owner (16 bytes) followed by the lock key.
        await Connection.GetSubscriber().SubscribeAsync(_keyspace.ReleaseChannel, (_, message) =>
        {
            var bytes = (byte[])message!;
            if (bytes.Length > 16 && _signals.TryGetValue(Encoding.UTF8.GetString(bytes, 16, bytes.Length - 16), out var signal))
            {
                signal.Pulse();
            }
        });
        Volatile.Write(ref _subscribed, 1);
    }

    public override async ValueTask ReleaseAsync(string key, LeaseArguments lease)
        => await RunAsync(RedisLeaseScripts.Script.Release, lease);

    public override bool IsLost(LeaseArguments handle) => false;

    /// <summary>Wakes every waiter of one key: each release completes the current task and starts a new one.</summary>
    private sealed class ReleaseSignal
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Next => Volatile.Read(ref _next).Task;

        public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
