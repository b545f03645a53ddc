using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// Leases on one Redis deployment (a server, a primary with replicas, or a cluster), with a wait queue per key kept
/// in Redis and the hand-off decided by the server.
/// </summary>
/// <remarks>
/// <para>
/// An acquire that finds the key held takes a place at the end of the key's queue in the same script. A release (or
/// an acquire or renewal that finds the holder's TTL gone) grants the key to the first waiter whose place is still
/// live, writing its lease and fencing token, and tells only that waiter's process: one round trip and one notice
/// per hand-off, first come first served across processes. Nothing is published when nobody waits.
/// </para>
/// <para>
/// A waiter refreshes its place every third of its lifetime (<see cref="RedisLockProviderOptions.QueuedWaiterTimeout"/>,
/// or the TTL when shorter) and sleeps otherwise until the grant notice, the holder's TTL, or its deadline. Its
/// lease's validity is counted from the last request that found it still queued: the server cannot have granted it
/// the key before that request arrived. A waiter that gives up leaves the queue; if the key was granted to it in the
/// meantime, the same script releases it.
/// </para>
/// </remarks>
internal sealed partial class RedisPrimaryLeases : RedisLeaseStore, IAbandonedAnswers
{
    private readonly IDatabaseAsync _database;
    private readonly RedisKeyNotices _notices;
    private readonly BoundedScriptCall.Pool _calls;

    public RedisPrimaryLeases(RedisLockProvider provider, IConnectionMultiplexer connection, RedisLockProviderOptions options, TimeProvider time, ILogger logger)
        : base(provider, options, time, logger)
    {
        _database = connection.GetDatabase(options.Database);
        _notices = new RedisKeyNotices(connection, Process, options.ShardedNotices, options.QueuedWaiterTimeout, time, logger, ReleaseAbandonedGrant);
        _calls = new BoundedScriptCall.Pool(time);
    }

    public override RedisKeyNotices Notices(int index = 0) => _notices;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<LeaseGrant?> AcquireAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        // A caller that may wait takes its place in the queue with its first request, so that its turn is the order
        // of arrival, not of whoever looks first after a release.
        var queueLifetimeMs = request.Wait == TimeSpan.Zero ? 0 : QueueLifetimeMs(request.Ttl);
        var lease = new LeaseArguments(Settings, Keyspace.LockKey(request.Key), request.Owner, ToMilliseconds(request.Ttl), queueLifetimeMs, request.Owner, LeaseMode.Grant);
        var deadline = Deadline(request.Wait);
        var sentAt = Time.GetTimestamp();
        var answer = await AttemptAsync(request.Key, lease, deadline, cancellationToken).ConfigureAwait(false);
        if (answer.Granted)
        {
            return new LeaseGrant(answer.FencingToken, sentAt) { StoreState = lease };
        }

        Provider.Contended(request.Key);
        if (queueLifetimeMs == 0)
        {
            return null;
        }

        return await WaitInQueueAsync(request.Key, lease, deadline, sentAt, answer, cancellationToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<LeaseGrant?> WaitInQueueAsync(string key, LeaseArguments lease, long deadline, long queuedAt, RedisLeaseScripts.AcquireResult answer, CancellationToken cancellationToken)
    {
        var refreshEvery = ToTimestampTicks(TimeSpan.FromMilliseconds(lease.QueueLifetimeMs / 3.0));
        var keepPlace = lease.KeepingPlace();
        var waiter = _notices.Register(lease.LockKey, lease.Owner);
        bool granted = false, left = false;
        try
        {
            var holderEnds = HolderEnds(answer, Time.GetTimestamp());

            // A grant published before this process listened on the key's channel was not heard: look once it listens.
            var lookNow = !waiter.HeardSince(queuedAt);
            while (true)
            {
                if (lookNow)
                {
                    await waiter.WhenSubscribedAsync(deadline, cancellationToken).ConfigureAwait(false);
                    lookNow = false;
                }
                else
                {
                    await waiter.Signal.SleepAsync(Math.Min(Math.Min(holderEnds, queuedAt + refreshEvery), deadline), cancellationToken).ConfigureAwait(false);
                }

                if (waiter.Signal.GrantedToken is var notified and > 0)
                {
                    granted = true;
                    return new LeaseGrant(notified, queuedAt) { StoreState = lease };
                }

                if (Time.GetTimestamp() >= deadline)
                {
                    break;
                }

                waiter.Signal.Arm();
                var sentAt = Time.GetTimestamp();
                answer = await AttemptAsync(key, keepPlace, deadline, cancellationToken).ConfigureAwait(false);
                if (answer.PlaceLost)
                {
                    // The place expired (this process was paused past its lifetime) or the server lost its data. Queue
                    // again under a new id: a late notice of a grant to the old id must never pass for a grant to this one.
                    _notices.Abandon(waiter);
                    var owner = OwnerToken.New();
                    lease = new LeaseArguments(Settings, lease.LockKey, owner, lease.TtlMs, lease.QueueLifetimeMs, owner, LeaseMode.Grant);
                    keepPlace = lease.KeepingPlace();
                    waiter = _notices.Register(lease.LockKey, lease.Owner);
                    sentAt = Time.GetTimestamp();
                    answer = await AttemptAsync(key, lease, deadline, cancellationToken).ConfigureAwait(false);
                    lookNow = !answer.Granted && !waiter.HeardSince(sentAt);
                }

                if (answer.Granted)
                {
                    granted = true;
                    return new LeaseGrant(answer.FencingToken, answer.GrantedEarlier ? queuedAt : sentAt) { StoreState = lease };
                }

                queuedAt = sentAt;
                holderEnds = HolderEnds(answer, Time.GetTimestamp());
            }

            // Out of time: leave the queue. Should the key have been granted to this waiter meanwhile, the same script
            // releases it and hands it to the next.
            left = true;
            await LeaveAsync(key, lease).ConfigureAwait(false);
            return null;
        }
        finally
        {
            if (granted)
            {
                _notices.Unregister(waiter);
            }
            else
            {
                // A grant to this waiter that comes after all (a leave that did not reach the server) is released.
                _notices.Abandon(waiter);
                if (!left)
                {
                    // Cancelled, or the store failed: leave without holding the caller up.
                    _ = LeaveAsync(key, lease);
                }
            }
        }
    }

    /// <summary>One acquire round trip, bounded by the wait budget.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<RedisLeaseScripts.AcquireResult> AttemptAsync(string key, LeaseArguments lease, long deadline, CancellationToken cancellationToken)
    {
        CountAttempt();
        var answer = await BoundedScriptCall.SendAsync(_calls, _database, RedisLeaseScripts.Script.Acquire, lease, AttemptBound(deadline), cancellationToken, this, key).ConfigureAwait(false);
        return RedisLeaseScripts.AcquireResult.From(answer);
    }

    /// <summary>Leaves the queue (or releases a grant that came meanwhile); a failure leaves the place to expire.</summary>
    private async Task LeaveAsync(string key, LeaseArguments lease)
    {
        try
        {
            await ReleaseOnServerAsync(key, lease, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogLeaveFailed(Logger, ex, key);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<bool> RenewAsync(LeaseIdentity lease, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var arguments = Arguments(lease, ToMilliseconds(ttl), LeaseMode.Grant);
        var answer = await BoundedScriptCall.SendAsync(_calls, _database, RedisLeaseScripts.Script.Renew, arguments, Options.StoreTimeout, cancellationToken, this, lease.Key).ConfigureAwait(false);
        return (long)answer == 1;
    }

    public override ValueTask ReleaseAsync(LeaseIdentity lease, CancellationToken cancellationToken)
        => ReleaseOnServerAsync(lease.Key, Arguments(lease, ttlMs: null, LeaseMode.Grant), cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReleaseOnServerAsync(string key, LeaseArguments lease, CancellationToken cancellationToken)
    {
        var answer = await BoundedScriptCall.SendAsync(_calls, _database, RedisLeaseScripts.Script.Release, lease, Options.StoreTimeout, cancellationToken, this, key).ConfigureAwait(false);
        HandOverLocally(answer);
    }

    /// <summary>A release that granted the key to a waiter of this provider says so in its answer (no notice is sent for it).</summary>
    private void HandOverLocally(RedisResult releaseAnswer)
    {
        if (RedisLeaseScripts.ReleaseResult.From(releaseAnswer) is { GrantedTo: { } waiter } released)
        {
            _notices.DeliverGrant(waiter, released.GrantedToken);
        }
    }

    /// <summary>An answer that came after its caller stopped waiting.</summary>
    void IAbandonedAnswers.OnAbandonedAnswer(RedisLeaseScripts.Script script, string key, LeaseArguments lease, RedisResult answer)
    {
        switch (script)
        {
            case RedisLeaseScripts.Script.Acquire:
                // A grant, or a place in the queue, that nobody will use: give it back.
                var acquired = RedisLeaseScripts.AcquireResult.From(answer);
                if (acquired.Granted || (lease.QueueLifetimeMs > 0 && !acquired.PlaceLost))
                {
                    _ = ReleaseAbandonedAsync(key, lease);
                }

                break;
            case RedisLeaseScripts.Script.Release:
                HandOverLocally(answer);
                break;
        }
    }

    /// <summary>A grant to a waiter id this provider abandoned (its waiter left or queued again): release it.</summary>
    private void ReleaseAbandonedGrant(string lockKey, Guid waiterId)
        => _ = ReleaseAbandonedAsync(lockKey, new LeaseArguments(Settings, lockKey, waiterId, 1, 0, waiterId, LeaseMode.Grant));

    private async Task ReleaseAbandonedAsync(string key, LeaseArguments lease)
    {
        try
        {
            await ReleaseOnServerAsync(key, lease, CancellationToken.None).ConfigureAwait(false);
            LogAbandonedGrantReleased(Logger, key);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogAbandonedGrantNotReleased(Logger, ex, key);
        }
    }

    public override Task DisposeAsync() => _notices.DisposeAsync(Options.StoreTimeout);

    [LoggerMessage(105, LogLevel.Debug, "A waiter for lock '{Key}' could not leave the queue; its place expires by itself")]
    private static partial void LogLeaveFailed(ILogger logger, Exception error, string key);
}
