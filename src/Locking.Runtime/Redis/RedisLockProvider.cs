using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// Leases in Redis: on one server (or a cluster, or a primary with replicas) through one connection, or on several
/// independent primaries with the Redlock quorum.
/// </summary>
/// <remarks>
/// <para>
/// Every store operation is one Lua script and one round trip: acquire (SET NX PX plus a fencing token; when the
/// key is held it answers the holder's remaining TTL), renew (compare owner, then PEXPIRE) and release (compare owner,
/// then DEL and PUBLISH a release notice). The lease of key K lives in <c>{prefix}{K}</c> and its fencing counter in
/// <c>{prefix}{K}:fence</c>, one cluster slot.
/// </para>
/// <para>
/// Fencing tokens are the larger of the key's last token + 1 and the server clock in microseconds, so they keep
/// increasing after FLUSHALL or a restart that lost the data, as long as the server clock does not step back
/// further than the time between the two acquires. The counter expires
/// <see cref="RedisLockProviderOptions.FencingCounterRetention"/> after its lease: no key is kept forever.
/// With Redlock the token is the largest of the quorum's tokens. Any two quorums share a server, but the servers'
/// clocks differ, so there tokens increase only when consecutive acquires are further apart than the servers'
/// clock skew; a resource that needs strict fencing should use one primary (or the Orleans store).
/// </para>
/// <para>
/// Waiting costs no polling: a waiter sleeps until a release notice for its key (one pub/sub subscription per
/// provider) or until the holder's TTL would end, whichever comes first. Waiters in one process queue FIFO per key,
/// and only the first of them asks Redis.
/// </para>
/// </remarks>
public sealed partial class RedisLockProvider : LockProvider
{
    private readonly Master[] _masters;
    private readonly int _quorum;
    private readonly RedisLockProviderOptions _options;
    private readonly RedisKeyspace _keyspace;
    private readonly RedisWaitQueues _waiters;
    private readonly BoundedAcquire.Pool _boundedAcquires;
    private readonly ILogger _logger;
    private readonly long _counterRetentionMs;
    private readonly Lock _subscribeGate = new();
    private Task? _subscribed;
    private long _acquireAttempts;

    /// <summary>Creates a provider on one Redis deployment (a server, a primary with replicas, or a cluster).</summary>
    /// <param name="connection">The connection; the provider does not dispose it.</param>
    /// <param name="options">Key prefix and timeouts; <see cref="RedisLockProviderOptions.Default"/> when null.</param>
    /// <param name="logger">Where failures to renew or release are logged.</param>
    /// <param name="timeProvider">The clock of lease validity, renewal and waits; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public RedisLockProvider(IConnectionMultiplexer connection, RedisLockProviderOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
        : this([connection ?? throw new ArgumentNullException(nameof(connection))], nameof(connection), options, logger, timeProvider)
    {
    }

    /// <summary>
    /// Creates a provider on several independent Redis primaries (not replicas of each other) with the Redlock
    /// algorithm: a lease is granted when a majority (N/2+1) granted it within its TTL less the time spent and a
    /// clock drift margin, and is released on every primary when the majority was not reached.
    /// </summary>
    /// <param name="independentMasters">One connection per primary; the provider does not dispose them.</param>
    /// <param name="options">Key prefix and timeouts; <see cref="RedisLockProviderOptions.Default"/> when null.</param>
    /// <param name="logger">Where failures to renew or release are logged.</param>
    /// <param name="timeProvider">The clock of lease validity, renewal and waits; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentException">The list is empty, holds null, or holds one connection twice; or an option is invalid.</exception>
    public RedisLockProvider(IReadOnlyList<IConnectionMultiplexer> independentMasters, RedisLockProviderOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
        : this(independentMasters, nameof(independentMasters), options, logger, timeProvider)
    {
    }

    private RedisLockProvider(IReadOnlyList<IConnectionMultiplexer> connections, string parameterName, RedisLockProviderOptions? options, ILogger? logger, TimeProvider? timeProvider)
        : base("redis", logger, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(connections, parameterName);
        if (connections.Count == 0)
        {
            throw new ArgumentException("At least one Redis connection is needed; the list was empty.", parameterName);
        }

        _options = (options ?? RedisLockProviderOptions.Default).Validated();
        _masters = new Master[connections.Count];
        for (var i = 0; i < connections.Count; i++)
        {
            var connection = connections[i] ?? throw new ArgumentException($"Connection {i} of {connections.Count} is null.", parameterName);
            for (var j = 0; j < i; j++)
            {
                if (ReferenceEquals(_masters[j].Connection, connection))
                {
                    throw new ArgumentException($"Connections {j} and {i} are the same object; Redlock needs independent primaries.", parameterName);
                }
            }

            _masters[i] = new Master(connection, connection.GetDatabase(_options.Database));
        }

        _quorum = _masters.Length / 2 + 1;
        _keyspace = new RedisKeyspace(_options.KeyPrefix);
        _waiters = new RedisWaitQueues(TimeProvider);
        _boundedAcquires = new BoundedAcquire.Pool(TimeProvider);
        _logger = logger ?? NullLogger.Instance;
        _counterRetentionMs = (long)_options.FencingCounterRetention.TotalMilliseconds;
    }

    /// <summary>The options in use.</summary>
    public RedisLockProviderOptions Options => _options;

    /// <summary>How many acquire requests this provider sent (each one round trip, to every primary with Redlock).</summary>
    internal long AcquireAttempts => Interlocked.Read(ref _acquireAttempts);

    internal RedisKeyspace Keyspace => _keyspace;

    internal RedisWaitQueues Waiters => _waiters;

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected override async ValueTask<LeaseGrant?> AcquireInStoreAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        var lease = new LeaseArguments(_keyspace.LockKey(request.Key), request.Owner, ToMilliseconds(request.Ttl), _counterRetentionMs, _keyspace.ReleaseChannelName);
        var deadline = Deadline(request.Wait);

        // Try at once unless tasks of this process already wait for the key: those go first.
        if (!_waiters.HasWaiters(lease.LockKey))
        {
            var sentAt = TimeProvider.GetTimestamp();
            var attempt = await AttemptAsync(request.Key, lease, deadline, cancellationToken).ConfigureAwait(false);
            if (attempt.Granted)
            {
                return new LeaseGrant(attempt.FencingToken, sentAt) { StoreState = lease };
            }

            RecordContention(request.Key);
            if (request.Wait == TimeSpan.Zero || TimeProvider.GetTimestamp() >= deadline)
            {
                return null;
            }
        }
        else
        {
            RecordContention(request.Key);
        }

        return await WaitInLineAsync(request, lease, deadline, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<LeaseGrant?> WaitInLineAsync(LeaseRequest request, LeaseArguments lease, long deadline, CancellationToken cancellationToken)
    {
        await EnsureSubscribedAsync(deadline, cancellationToken).ConfigureAwait(false);
        var waiter = _waiters.Enqueue(lease.LockKey);
        var leftAsHolder = false;
        try
        {
            while (true)
            {
                waiter.Arm();
                if (!waiter.IsHead)
                {
                    // Behind others of this process: the one ahead wakes this one when it leaves the line.
                    if (!await waiter.SleepAsync(deadline, cancellationToken).ConfigureAwait(false))
                    {
                        return null;
                    }

                    continue;
                }

                if (waiter.LocalHolderUntil is { } heldUntil && TimeProvider.GetTimestamp() < heldUntil)
                {
                    // The previous head of this line holds the lease: sleep until it releases it (or it would have expired).
                    if (!await waiter.SleepAsync(Math.Min(heldUntil, deadline), cancellationToken).ConfigureAwait(false)
                        && TimeProvider.GetTimestamp() >= deadline)
                    {
                        return await AttemptAsHeadAsync().ConfigureAwait(false);
                    }

                    continue;
                }

                var sentAt = TimeProvider.GetTimestamp();
                var attempt = await AttemptAsync(request.Key, lease, deadline, cancellationToken).ConfigureAwait(false);
                if (attempt.Granted)
                {
                    return Granted(attempt, sentAt);
                }

                if (TimeProvider.GetTimestamp() >= deadline)
                {
                    return null;
                }

                // Sleep until a release notice or until the holder's lease would end, then look again. PTTL truncates to
                // whole ms and Redis's clock ticks apart from ours: 2 ms more, so the look does not come a tick early
                // and find the key still there (an acquire round trip wasted per expiry).
                var wakeAt = attempt.HolderRemaining is { } remaining
                    ? TimeProvider.GetTimestamp() + ToTimestampTicks(remaining + ExpiryMargin)
                    : long.MaxValue;
                await waiter.SleepAsync(Math.Min(wakeAt, deadline), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (!leftAsHolder)
            {
                _waiters.Leave(waiter);
            }
        }

        async ValueTask<LeaseGrant?> AttemptAsHeadAsync()
        {
            var sentAt = TimeProvider.GetTimestamp();
            var last = await AttemptAsync(request.Key, lease, deadline, cancellationToken).ConfigureAwait(false);
            return last.Granted ? Granted(last, sentAt) : null;
        }

        LeaseGrant Granted(RedisLeaseScripts.AcquireResult attempt, long sentAt)
        {
            _waiters.Leave(waiter, request.Owner, sentAt + ToTimestampTicks(request.Ttl));
            leftAsHolder = true;
            return new LeaseGrant(attempt.FencingToken, sentAt) { StoreState = lease };
        }
    }

    /// <summary>One acquire round trip (to every primary with Redlock), bounded by the wait budget.</summary>
    private ValueTask<RedisLeaseScripts.AcquireResult> AttemptAsync(string key, LeaseArguments lease, long deadline, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _acquireAttempts);
        return _masters.Length == 1
            ? BoundedAcquire.SendAsync(_boundedAcquires, _masters[0].Database, lease, AttemptBound(deadline), cancellationToken, this, key)
            : AttemptOnQuorumAsync(key, lease, deadline, cancellationToken);
    }

    private async ValueTask<RedisLeaseScripts.AcquireResult> AttemptOnQuorumAsync(string key, LeaseArguments lease, long deadline, CancellationToken cancellationToken)
    {
        var sentAt = TimeProvider.GetTimestamp();
        var calls = new Task<long>[_masters.Length];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = RedisLeaseScripts.RunToEndAsync(_masters[i].Database, RedisLeaseScripts.Script.Acquire, lease);
        }

        // Wait only until the outcome is certain: a dead primary must not hold up a quorum of live ones.
        var bound = AttemptBound(deadline);
        await WhenDecidedAsync(calls, QuorumDecided, bound, cancellationToken).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            for (var i = 0; i < calls.Length; i++)
            {
                ReleaseIfGrantedLater(calls[i], _masters[i], key, lease);
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        int granted = 0, busy = 0, failed = 0;
        long token = 0;
        TimeSpan? holderRemaining = null;
        Exception? firstError = null;
        for (var i = 0; i < calls.Length; i++)
        {
            var call = calls[i];
            if (call.IsCompletedSuccessfully)
            {
                var result = new RedisLeaseScripts.AcquireResult(call.Result);
                if (result.Granted)
                {
                    granted++;
                    token = Math.Max(token, result.FencingToken);
                }
                else
                {
                    busy++;
                    if (result.HolderRemaining is { } remaining && (holderRemaining is null || remaining < holderRemaining))
                    {
                        holderRemaining = remaining;
                    }
                }
            }
            else
            {
                failed++;
                firstError ??= call.IsFaulted
                    ? call.Exception!.InnerException
                    : NoAnswer($"Redis primary {i} did not answer an acquire of '{key}' within {bound.TotalMilliseconds:0} ms.");
                if (!call.IsCompleted)
                {
                    ReleaseIfGrantedLater(call, _masters[i], key, lease);
                }
            }
        }

        var elapsed = TimeProvider.GetElapsedTime(sentAt);
        var ttl = TimeSpan.FromMilliseconds(lease.TtlMs);
        if (granted >= _quorum && elapsed < ttl - ManagedLease.DriftMargin(ttl))
        {
            return new RedisLeaseScripts.AcquireResult(token);
        }

        if (granted > 0)
        {
            // No quorum (or it came too late to be worth anything): give back what was granted, on every primary.
            LogQuorumMissed(_logger, key, granted, _masters.Length, failed);
            await ReleaseOnAllAsync(lease).ConfigureAwait(false);
        }

        if (failed > _masters.Length - _quorum)
        {
            throw firstError is RedisException redisError
                ? redisError
                : new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, $"Only {_masters.Length - failed} of {_masters.Length} Redis primaries answered; the quorum is {_quorum}.", firstError, CommandStatus.Unknown);
        }

        if (busy == 0 || granted > 0)
        {
            // Split between contenders or too slow: retry after a short random pause, so contenders fall out of step.
            return RedisLeaseScripts.AcquireResult.Busy(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10)));
        }

        return holderRemaining is { } soonest ? RedisLeaseScripts.AcquireResult.Busy(soonest) : new RedisLeaseScripts.AcquireResult(0);
    }

    private bool QuorumDecided(Task<long>[] calls)
    {
        int granted = 0, refused = 0;
        foreach (var call in calls)
        {
            if (call.IsCompletedSuccessfully && new RedisLeaseScripts.AcquireResult(call.Result).Granted)
            {
                granted++;
            }
            else if (call.IsCompleted)
            {
                refused++;
            }
        }

        return granted >= _quorum || refused > calls.Length - _quorum;
    }

    /// <summary>
    /// Waits until <paramref name="decided"/> says the answers so far settle the outcome, every call answered,
    /// <paramref name="bound"/> passed or the caller gave up; never throws.
    /// </summary>
    private async Task WhenDecidedAsync<T>(Task<T>[] calls, Func<Task<T>[], bool> decided, TimeSpan bound, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timeout = Task.Delay(bound, TimeProvider, stop.Token);
        var pending = new List<Task>(calls.Length + 1);
        while (!decided(calls))
        {
            pending.Clear();
            foreach (var call in calls)
            {
                if (!call.IsCompleted)
                {
                    pending.Add(call);
                }
            }

            if (pending.Count == 0)
            {
                break;
            }

            pending.Add(timeout);
            if (await Task.WhenAny(pending).ConfigureAwait(false) == timeout)
            {
                break;
            }
        }

        await stop.CancelAsync().ConfigureAwait(false);
        _ = timeout.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    private TimeSpan AttemptBound(long deadline)
    {
        if (deadline == long.MaxValue)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var remaining = TimeProvider.GetElapsedTime(TimeProvider.GetTimestamp(), deadline);
        return remaining > _options.StoreTimeout ? remaining : _options.StoreTimeout;
    }

    /// <summary>An acquire answered with a grant after its caller gave up: release it at once.</summary>
    internal void ReleaseAbandonedGrant(string key, LeaseArguments lease)
        => _ = ReleaseAbandonedGrantAsync(_masters[0], key, lease);

    private async Task ReleaseAbandonedGrantAsync(Master master, string key, LeaseArguments lease)
    {
        try
        {
            await RedisLeaseScripts.RunToEndAsync(master.Database, RedisLeaseScripts.Script.Release, lease).ConfigureAwait(false);
            LogAbandonedGrantReleased(_logger, key);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogAbandonedGrantNotReleased(_logger, ex, key);
        }
    }

    private void ReleaseIfGrantedLater(Task<long> call, Master master, string key, LeaseArguments lease)
    {
        _ = call.ContinueWith(
            static (answered, state) =>
            {
                var (provider, master, key, lease) = ((RedisLockProvider, Master, string, LeaseArguments))state!;
                if (answered.IsCompletedSuccessfully && new RedisLeaseScripts.AcquireResult(answered.Result).Granted)
                {
                    _ = provider.ReleaseAbandonedGrantAsync(master, key, lease);
                }
            },
            (this, master, key, lease),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task ReleaseOnAllAsync(LeaseArguments lease)
    {
        var calls = new Task<long>[_masters.Length];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = RedisLeaseScripts.RunToEndAsync(_masters[i].Database, RedisLeaseScripts.Script.Release, lease);
        }

        // A primary that does not take the release lets the lease expire by its TTL.
        await WhenDecidedAsync(calls, QuorumAnswered, _options.StoreTimeout, CancellationToken.None).ConfigureAwait(false);
        foreach (var call in calls)
        {
            _ = call.ContinueWith(static c => _ = c.Exception, TaskScheduler.Default);
        }
    }

    /// <summary>The script arguments of a lease: the ones its acquire built, or new ones for an identity made elsewhere.</summary>
    /// <remarks><paramref name="ttlMs"/> is the TTL to send, or <see langword="null"/> when the script does not read it (release).</remarks>
    private LeaseArguments Arguments(LeaseIdentity identity, long? ttlMs)
        => identity.StoreState is LeaseArguments built && built.Owner == identity.Owner
            ? (ttlMs is { } ttl ? built.WithTtl(ttl) : built)
            : new LeaseArguments(_keyspace.LockKey(identity.Key), identity.Owner, ttlMs ?? 1, _counterRetentionMs, _keyspace.ReleaseChannelName);

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected internal override async ValueTask<bool> RenewInStoreAsync(LeaseIdentity lease, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var arguments = Arguments(lease, ToMilliseconds(ttl));
        if (_masters.Length == 1)
        {
            return await RunOnOneAsync(RedisLeaseScripts.Script.Renew, arguments, cancellationToken).ConfigureAwait(false) == 1;
        }

        var calls = new Task<long>[_masters.Length];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = RedisLeaseScripts.RunToEndAsync(_masters[i].Database, RedisLeaseScripts.Script.Renew, arguments);
        }

        await WhenDecidedAsync(calls, RenewalDecided, _options.StoreTimeout, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        int renewed = 0, refused = 0;
        Exception? firstError = null;
        foreach (var call in calls)
        {
            if (!call.IsCompletedSuccessfully)
            {
                firstError ??= call.Exception?.InnerException;
                continue;
            }

            if (call.Result == 1)
            {
                renewed++;
            }
            else
            {
                refused++;
            }
        }

        if (renewed >= _quorum)
        {
            return true;
        }

        if (refused > _masters.Length - _quorum)
        {
            return false;
        }

        throw firstError ?? NoAnswer($"Too few Redis primaries answered a renewal of '{lease.Key}' within {_options.StoreTimeout.TotalMilliseconds:0} ms.");
    }

    /// <summary>A renew or release on the one primary: no allocation beyond the command, the text sent after NOSCRIPT.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<long> RunOnOneAsync(RedisLeaseScripts.Script script, LeaseArguments lease, CancellationToken cancellationToken)
    {
        var database = _masters[0].Database;
        try
        {
            return (long)await Cancellable(RedisLeaseScripts.Run(database, script, lease), cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (RedisLeaseScripts.IsNoScript(ex))
        {
            return (long)await Cancellable(RedisLeaseScripts.Run(database, script, lease, byText: true), cancellationToken).ConfigureAwait(false);
        }
    }

    private static Task<RedisResult> Cancellable(Task<RedisResult> call, CancellationToken cancellationToken)
        => cancellationToken.CanBeCanceled ? call.WaitAsync(cancellationToken) : call;

    private bool RenewalDecided(Task<long>[] calls)
    {
        int renewed = 0, refused = 0;
        foreach (var call in calls)
        {
            if (call.IsCompletedSuccessfully && call.Result == 1)
            {
                renewed++;
            }
            else if (call.IsCompleted)
            {
                refused++;
            }
        }

        return renewed >= _quorum || refused > calls.Length - _quorum;
    }

    private bool QuorumAnswered(Task<long>[] calls)
    {
        var answered = 0;
        foreach (var call in calls)
        {
            if (call.IsCompleted)
            {
                answered++;
            }
        }

        return answered >= _quorum;
    }

    /// <inheritdoc />
    protected internal override ValueTask ReleaseInStoreAsync(LeaseIdentity lease, CancellationToken cancellationToken)
        => _masters.Length == 1
            ? ReleaseOnOneAsync(Arguments(lease, ttlMs: null), cancellationToken)
            : ReleaseOnQuorumAsync(Arguments(lease, ttlMs: null), cancellationToken);

    /// <remarks>Does the work of <see cref="RunOnOneAsync"/> itself: one async frame less on every release.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReleaseOnOneAsync(LeaseArguments lease, CancellationToken cancellationToken)
    {
        var database = _masters[0].Database;
        var release = RedisLeaseScripts.Run(database, RedisLeaseScripts.Script.Release, lease);

        // Hand over to this process's next waiter now, not after the answer: its acquire goes out on the same
        // connection behind this release, so Redis runs the release first and a handoff costs one round trip, not
        // two. Should the release not free the key (the lease was already gone, or NOSCRIPT sent it again later),
        // the waiter finds the key held and sleeps until the holder's TTL or the release notice: nothing is lost.
        _waiters.Released(lease.LockKey, lease.Owner);
        try
        {
            await Cancellable(release, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (RedisLeaseScripts.IsNoScript(ex))
        {
            await Cancellable(RedisLeaseScripts.Run(database, RedisLeaseScripts.Script.Release, lease, byText: true), cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask ReleaseOnQuorumAsync(LeaseArguments lease, CancellationToken cancellationToken)
    {
        var calls = new Task<long>[_masters.Length];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = RedisLeaseScripts.RunToEndAsync(_masters[i].Database, RedisLeaseScripts.Script.Release, lease);
        }

        // Sent to all; a primary that does not take it lets the lease expire by its TTL.
        await WhenDecidedAsync(calls, QuorumAnswered, _options.StoreTimeout, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var released = false;
        Exception? firstError = null;
        foreach (var call in calls)
        {
            released |= call.IsCompletedSuccessfully && call.Result == 1;
            firstError ??= call.Exception?.InnerException;
            _ = call.ContinueWith(static c => _ = c.Exception, TaskScheduler.Default);
        }

        if (released)
        {
            _waiters.Released(lease.LockKey, lease.Owner);
        }
        else if (firstError is not null)
        {
            throw firstError;
        }
    }

    private Task EnsureSubscribedAsync(long deadline, CancellationToken cancellationToken)
    {
        Task subscribed;
        lock (_subscribeGate)
        {
            subscribed = _subscribed ??= SubscribeAsync();
        }

        return subscribed.IsCompletedSuccessfully ? Task.CompletedTask : AwaitSubscriptionAsync(subscribed, deadline, cancellationToken);
    }

    private async Task AwaitSubscriptionAsync(Task subscribed, long deadline, CancellationToken cancellationToken)
    {
        try
        {
            await subscribed.WaitAsync(AttemptBound(deadline), TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Waiters still wake when the holder's TTL ends; a later waiter subscribes again.
            LogSubscribeFailed(_logger, ex, _keyspace.ReleaseChannelName.ToString());
            lock (_subscribeGate)
            {
                if (subscribed.IsFaulted && ReferenceEquals(_subscribed, subscribed))
                {
                    _subscribed = null;
                }
            }
        }
    }

    private async Task SubscribeAsync()
    {
        foreach (var master in _masters)
        {
            await master.Connection.GetSubscriber().SubscribeAsync(_keyspace.ReleaseChannel, OnReleaseNotice).ConfigureAwait(false);
        }
    }

    private void OnReleaseNotice(RedisChannel channel, RedisValue message)
    {
        if (_waiters.AnyWaiting && RedisLeaseScripts.ReadReleaseNotice(message) is { } notice)
        {
            _waiters.Released(notice.LockKey, notice.Owner);
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        _waiters.Dispose();
        Task? subscribed;
        lock (_subscribeGate)
        {
            subscribed = _subscribed;
        }

        if (subscribed is { IsCompletedSuccessfully: true })
        {
            foreach (var master in _masters)
            {
                try
                {
                    await master.Connection.GetSubscriber().UnsubscribeAsync(_keyspace.ReleaseChannel, OnReleaseNotice).WaitAsync(_options.StoreTimeout).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
                {
                    // The connection is gone or going: so is the subscription.
                }
            }
        }
    }

    /// <summary>How much later than the holder's reported PTTL a waiter looks again.</summary>
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromMilliseconds(2);

    private static RedisTimeoutException NoAnswer(string message) => new(CommandFlags.None, message, CommandStatus.Sent);

    private static long ToMilliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));

    private long ToTimestampTicks(TimeSpan span) => (long)(span.Ticks * (double)TimeProvider.TimestampFrequency / TimeSpan.TicksPerSecond);

    private long Deadline(TimeSpan wait)
    {
        if (wait == Timeout.InfiniteTimeSpan)
        {
            return long.MaxValue;
        }

        var ticks = wait.Ticks * (double)TimeProvider.TimestampFrequency / TimeSpan.TicksPerSecond;
        var now = TimeProvider.GetTimestamp();
        return ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
    }

    private sealed record Master(IConnectionMultiplexer Connection, IDatabaseAsync Database);

    [LoggerMessage(101, LogLevel.Debug, "Redlock quorum missed for lock '{Key}': {Granted} of {Masters} primaries granted, {Failed} failed; releasing on all")]
    private static partial void LogQuorumMissed(ILogger logger, string key, int granted, int masters, int failed);

    [LoggerMessage(102, LogLevel.Debug, "An abandoned acquire of lock '{Key}' was granted after the caller gave up; released it")]
    private static partial void LogAbandonedGrantReleased(ILogger logger, string key);

    [LoggerMessage(103, LogLevel.Warning, "An abandoned acquire of lock '{Key}' was granted after the caller gave up and could not be released; it ends by its TTL")]
    private static partial void LogAbandonedGrantNotReleased(ILogger logger, Exception error, string key);

    [LoggerMessage(104, LogLevel.Warning, "Could not subscribe to the release channel '{Channel}'; waiters wake when the holder's TTL ends")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception error, string channel);
}
