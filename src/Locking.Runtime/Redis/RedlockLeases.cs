using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// Leases on several independent Redis primaries with the Redlock quorum: a lease is granted when a majority granted
/// it within its validity, with a fencing token that is strictly larger than every earlier holder's.
/// </summary>
/// <remarks>
/// <para>
/// Each attempt has an owner token of its own, so that nothing sent for an earlier attempt (a give-back that arrives
/// late, a NOSCRIPT resend) can touch a later one. An attempt is decided as soon as its answers decide it (a majority
/// granted, or a majority can no longer grant), and in any case within the lease's validity: a quorum that comes later
/// is worthless. A grant that arrives on a primary after the attempt succeeded is kept: the lease renews and releases
/// on every primary. A failed attempt gives back its partial grants quietly (no notice, which would only wake the
/// other waiters into the same race) before the next attempt.
/// </para>
/// <para>
/// Strict fencing: every primary draws its own token from its counter and clock, and the quorum's token is the
/// largest. Before the lease is handed out that token is written to the counters of the primaries that granted it (a
/// majority). Any later quorum shares a primary with that majority, whose counter is at least the token, so it draws
/// a larger one; without it, tokens would rise only when acquires are further apart than the primaries' clock skew.
/// </para>
/// <para>
/// Waiters keep no queue on the primaries, only a place that tells a release that someone waits: a release then
/// publishes a notice on the key's channel of each primary, and the waiters race for the key. A split vote is tried
/// again after a short random pause, as the Redlock algorithm prescribes. Cross-process order is not kept in this mode.
/// </para>
/// </remarks>
internal sealed partial class RedlockLeases : RedisLeaseStore
{
    private readonly Primary[] _primaries;
    private readonly int _quorum;

    public RedlockLeases(RedisLockProvider provider, IReadOnlyList<IConnectionMultiplexer> connections, RedisLockProviderOptions options, TimeProvider time, ILogger logger)
        : base(provider, options, time, logger)
    {
        _primaries = new Primary[connections.Count];
        for (var i = 0; i < connections.Count; i++)
        {
            var connection = connections[i];
            var notices = new RedisKeyNotices(connection, Process, options.ShardedNotices, options.QueuedWaiterTimeout, time, logger, static (_, _) => { });
            _primaries[i] = new Primary(connection.GetDatabase(options.Database), notices);
        }

        _quorum = _primaries.Length / 2 + 1;
    }

    public override RedisKeyNotices Notices(int index = 0) => _primaries[index].Notices;

    public override async ValueTask<LeaseGrant?> AcquireAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        var lockKey = Keyspace.LockKey(request.Key);
        var ttlMs = ToMilliseconds(request.Ttl);
        var queueLifetimeMs = request.Wait == TimeSpan.Zero ? 0 : QueueLifetimeMs(request.Ttl);
        var refreshEvery = ToTimestampTicks(TimeSpan.FromMilliseconds(queueLifetimeMs / 3.0));
        var deadline = Deadline(request.Wait);
        var signal = new WaiterSignal(Time);
        RedisKeyNotices.KeyWaiter[]? waiters = null;
        LeaseArguments? lease = null;
        var granted = false;
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var owner = attempt == 0 ? request.Owner : OwnerToken.New();
                lease = new LeaseArguments(Settings, lockKey, owner, ttlMs, queueLifetimeMs, request.Owner, LeaseMode.Notify);
                signal.Arm();
                var sentAt = Time.GetTimestamp();
                var outcome = await AttemptAsync(request.Key, lease, deadline, cancellationToken).ConfigureAwait(false);
                if (outcome.Token > 0)
                {
                    granted = true;
                    return new LeaseGrant(outcome.Token, sentAt) { StoreState = new QuorumLease(lease, outcome.Acquires!) };
                }

                if (attempt == 0)
                {
                    Provider.Contended(request.Key);
                }

                if (queueLifetimeMs == 0 || Time.GetTimestamp() >= deadline)
                {
                    return null;
                }

                if (waiters is null)
                {
                    waiters = Array.ConvertAll(_primaries, primary => primary.Notices.Register(lockKey, request.Owner, signal));
                    if (!Array.TrueForAll(waiters, waiter => waiter.HeardSince(sentAt)))
                    {
                        // A release notice sent before this process listened was not heard: look once it listens.
                        foreach (var waiter in waiters)
                        {
                            await waiter.WhenSubscribedAsync(deadline, cancellationToken).ConfigureAwait(false);
                        }

                        continue;
                    }
                }

                var wakeAt = Math.Min(Math.Min(outcome.HolderEnds, sentAt + refreshEvery), deadline);
                if (outcome.Split)
                {
                    wakeAt = Math.Min(wakeAt, Time.GetTimestamp() + ToTimestampTicks(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 10 + Math.Min(attempt, 9) * 10))));
                }

                await signal.SleepAsync(wakeAt, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (waiters is not null)
            {
                for (var i = 0; i < waiters.Length; i++)
                {
                    _primaries[i].Notices.Unregister(waiters[i]);
                }
            }

            if (!granted && lease is { QueueLifetimeMs: > 0 })
            {
                // Leave the places this waiter took, so that releases stop telling nobody (the release script leaves
                // the queue when the caller does not hold the key).
                foreach (var release in Send(RedisLeaseScripts.Script.Release, lease))
                {
                    Observe(release);
                }
            }
        }
    }

    /// <summary>One acquire on every primary, decided within the wait and the lease's validity.</summary>
    private async ValueTask<QuorumOutcome> AttemptAsync(string key, LeaseArguments lease, long deadline, CancellationToken cancellationToken)
    {
        CountAttempt();
        var sentAt = Time.GetTimestamp();
        var ttl = TimeSpan.FromMilliseconds(lease.TtlMs);
        var validity = ttl - ManagedLease.DriftMargin(ttl);
        var calls = Send(RedisLeaseScripts.Script.Acquire, lease);
        await WhenDecidedAsync(calls, AcquireDecided, Shorter(AttemptBound(deadline), validity), cancellationToken).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            GiveBackInBackground(key, lease, calls);
            cancellationToken.ThrowIfCancellationRequested();
        }

        int granted = 0, busy = 0, failed = 0;
        long token = 0;
        var holderEnds = long.MaxValue;
        Exception? firstError = null;
        for (var i = 0; i < calls.Length; i++)
        {
            var call = calls[i];
            if (call.IsCompletedSuccessfully)
            {
                var answer = RedisLeaseScripts.AcquireResult.From(call.Result);
                if (answer.Granted)
                {
                    granted++;
                    token = Math.Max(token, answer.FencingToken);
                }
                else
                {
                    busy++;
                    holderEnds = Math.Min(holderEnds, HolderEnds(answer, Time.GetTimestamp()));
                }
            }
            else
            {
                failed++;
                firstError ??= call.IsFaulted
                    ? call.Exception!.InnerException
                    : NoAnswer($"Redis primary {i} did not answer an acquire of '{key}' in time.");
            }
        }

        if (granted >= _quorum && Time.GetElapsedTime(sentAt) < validity
            && await RaiseFencesAsync(lease, calls, token, sentAt, validity).ConfigureAwait(false))
        {
            // Calls still pending keep their grant if it comes: the lease renews and releases on every primary.
            return new QuorumOutcome(token, long.MaxValue, Split: false, calls);
        }

        if (granted > 0 || failed > 0)
        {
            LogQuorumMissed(Logger, key, granted, _primaries.Length, failed);
            await GiveBackAsync(key, lease, calls).ConfigureAwait(false);
        }

        if (failed > _primaries.Length - _quorum)
        {
            throw firstError is RedisException redisError
                ? redisError
                : new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, $"Only {_primaries.Length - failed} of {_primaries.Length} Redis primaries answered; the quorum is {_quorum}.", firstError, CommandStatus.Unknown);
        }

        // Split between contenders (or a quorum that came too late): nobody holds the key for long, so look again soon.
        return new QuorumOutcome(0, holderEnds, Split: granted > 0 || busy < _quorum);
    }

    /// <summary>
    /// Writes the quorum's token to the counters of the primaries that granted (a majority), so that any later quorum
    /// draws a larger one. Whether a majority took it within the lease's validity.
    /// </summary>
    private async ValueTask<bool> RaiseFencesAsync(LeaseArguments lease, Task<RedisResult>[] acquires, long token, long sentAt, TimeSpan validity)
    {
        var raises = new Task<RedisResult>[acquires.Length];
        for (var i = 0; i < raises.Length; i++)
        {
            raises[i] = acquires[i].IsCompletedSuccessfully && RedisLeaseScripts.AcquireResult.From(acquires[i].Result).Granted
                ? RedisLeaseScripts.RaiseFenceAsync(_primaries[i].Database, lease, token)
                : Task.FromCanceled<RedisResult>(new CancellationToken(canceled: true));
        }

        var left = validity - Time.GetElapsedTime(sentAt);
        await WhenDecidedAsync(raises, calls => Count(calls, c => c.IsCompletedSuccessfully) >= _quorum || Count(calls, c => !c.IsCompleted) == 0, left, CancellationToken.None).ConfigureAwait(false);
        foreach (var raise in raises)
        {
            Observe(raise);
        }

        return Count(raises, c => c.IsCompletedSuccessfully) >= _quorum && Time.GetElapsedTime(sentAt) < validity;
    }

    /// <summary>Gives back a failed attempt's grants quietly, waiting (bounded) so that the next attempt comes after it.</summary>
    private async Task GiveBackAsync(string key, LeaseArguments lease, Task<RedisResult>[] acquires)
    {
        var quiet = lease.Quiet();
        var releases = Send(RedisLeaseScripts.Script.Release, quiet);
        ReleaseGrantsThatComeLater(key, quiet, acquires);
        await WhenDecidedAsync(releases, static calls => Count(calls, c => !c.IsCompleted) == 0, Options.StoreTimeout, CancellationToken.None).ConfigureAwait(false);
        foreach (var release in releases)
        {
            Observe(release);
        }
    }

    private void GiveBackInBackground(string key, LeaseArguments lease, Task<RedisResult>[] acquires)
        => _ = GiveBackAsync(key, lease, acquires);

    /// <summary>
    /// An acquire answered after its attempt failed or its lease was released: its grant belongs to nobody (an attempt's
    /// owner is never used again), so <paramref name="release"/> gives it back.
    /// </summary>
    private void ReleaseGrantsThatComeLater(string key, LeaseArguments release, Task<RedisResult>[] acquires)
    {
        for (var i = 0; i < acquires.Length; i++)
        {
            if (acquires[i].IsCompleted)
            {
                Observe(acquires[i]);
                continue;
            }

            var database = _primaries[i].Database;
            _ = acquires[i].ContinueWith(
                answered =>
                {
                    if (answered.IsCompletedSuccessfully && RedisLeaseScripts.AcquireResult.From(answered.Result).Granted)
                    {
                        _ = ReleaseLateGrantAsync(database, key, release);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task ReleaseLateGrantAsync(IDatabaseAsync database, string key, LeaseArguments release)
    {
        try
        {
            await RedisLeaseScripts.RunToEndAsync(database, RedisLeaseScripts.Script.Release, release).ConfigureAwait(false);
            LogAbandonedGrantReleased(Logger, key);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogAbandonedGrantNotReleased(Logger, ex, key);
        }
    }

    /// <summary>The script arguments of a lease this store granted (<see cref="QuorumLease"/>), or new ones for an identity made elsewhere.</summary>
    private LeaseArguments QuorumArguments(LeaseIdentity lease, long? ttlMs)
        => lease.StoreState is QuorumLease quorum
            ? Arguments(lease with { StoreState = quorum.Arguments }, ttlMs, LeaseMode.Notify)
            : Arguments(lease, ttlMs, LeaseMode.Notify);

    public override async ValueTask<bool> RenewAsync(LeaseIdentity lease, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var arguments = QuorumArguments(lease, ToMilliseconds(ttl));
        var calls = Send(RedisLeaseScripts.Script.Renew, arguments);

        // A renewal that comes back after the validity it would extend is worth nothing: wait no longer than that.
        await WhenDecidedAsync(calls, RenewalDecided, Shorter(Options.StoreTimeout, ttl - ManagedLease.DriftMargin(ttl)), cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        int renewed = 0, refused = 0;
        Exception? firstError = null;
        foreach (var call in calls)
        {
            Observe(call);
            if (!call.IsCompletedSuccessfully)
            {
                firstError ??= call.Exception?.InnerException;
            }
            else if ((long)call.Result == 1)
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

        if (refused > _primaries.Length - _quorum)
        {
            return false;
        }

        throw firstError ?? NoAnswer($"Too few Redis primaries answered a renewal of '{lease.Key}' in time.");
    }

    public override async ValueTask ReleaseAsync(LeaseIdentity lease, CancellationToken cancellationToken)
    {
        var arguments = QuorumArguments(lease, ttlMs: null);
        var calls = Send(RedisLeaseScripts.Script.Release, arguments);

        // An acquire of this lease still unanswered may yet grant (a primary that was stopped, a NOSCRIPT resend that
        // overtook this release): release that grant when it comes.
        if (lease.StoreState is QuorumLease { Acquires: var acquires })
        {
            ReleaseGrantsThatComeLater(lease.Key, arguments, acquires);
        }

        // Sent to all, and done once a majority answered: the lease is then gone from a majority, so nobody is kept
        // from the key by it; a primary that does not answer lets it expire by its TTL.
        await WhenDecidedAsync(calls, calls => Count(calls, c => c.IsCompleted) >= _quorum, Options.StoreTimeout, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var released = false;
        Exception? firstError = null;
        foreach (var call in calls)
        {
            released |= call.IsCompletedSuccessfully && RedisLeaseScripts.ReleaseResult.From(call.Result).Released;
            firstError ??= call.Exception?.InnerException;
            Observe(call);
        }

        if (!released && firstError is not null)
        {
            throw firstError;
        }
    }

    public override Task DisposeAsync() => Task.WhenAll(_primaries.Select(primary => primary.Notices.DisposeAsync(Options.StoreTimeout)));

    private Task<RedisResult>[] Send(RedisLeaseScripts.Script script, LeaseArguments lease)
    {
        var calls = new Task<RedisResult>[_primaries.Length];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = RedisLeaseScripts.RunToEndAsync(_primaries[i].Database, script, lease);
        }

        return calls;
    }

    private bool AcquireDecided(Task<RedisResult>[] calls)
    {
        var granted = Count(calls, static c => c.IsCompletedSuccessfully && RedisLeaseScripts.AcquireResult.From(c.Result).Granted);
        var refused = Count(calls, static c => c.IsCompleted) - granted;
        return granted >= _quorum || refused > calls.Length - _quorum;
    }

    private bool RenewalDecided(Task<RedisResult>[] calls)
    {
        var renewed = Count(calls, static c => c.IsCompletedSuccessfully && (long)c.Result == 1);
        var refused = Count(calls, static c => c.IsCompleted) - renewed;
        return renewed >= _quorum || refused > calls.Length - _quorum;
    }

    private static int Count(Task<RedisResult>[] calls, Func<Task<RedisResult>, bool> predicate)
    {
        var count = 0;
        foreach (var call in calls)
        {
            if (predicate(call))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Waits until <paramref name="decided"/> says the answers so far settle the outcome, every call answered,
    /// <paramref name="bound"/> passed or the caller gave up; never throws.
    /// </summary>
    private async Task WhenDecidedAsync(Task<RedisResult>[] calls, Func<Task<RedisResult>[], bool> decided, TimeSpan bound, CancellationToken cancellationToken)
    {
        if (bound != Timeout.InfiniteTimeSpan && bound <= TimeSpan.Zero)
        {
            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timeout = Task.Delay(bound, Time, stop.Token);
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
        Observe(timeout);
    }

    private static TimeSpan Shorter(TimeSpan a, TimeSpan b)
        => a == Timeout.InfiniteTimeSpan ? b : b == Timeout.InfiniteTimeSpan ? a : (a < b ? a : b);

    /// <summary>Keeps a call that nobody awaits any more from reporting its failure as unobserved.</summary>
    private static void Observe(Task task) => _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private sealed record Primary(IDatabaseAsync Database, RedisKeyNotices Notices);

    /// <summary>What a quorum lease keeps: its script arguments and its acquires, some of which may still answer.</summary>
    private sealed record QuorumLease(LeaseArguments Arguments, Task<RedisResult>[] Acquires);

    /// <param name="Token">The fencing token when the quorum granted; 0 otherwise.</param>
    /// <param name="HolderEnds">When the soonest holder's lease ends, as a timestamp.</param>
    /// <param name="Split">Whether nobody holds a majority: the key may be free again any moment.</param>
    /// <param name="Acquires">The attempt's calls, when it was granted.</param>
    private readonly record struct QuorumOutcome(long Token, long HolderEnds, bool Split, Task<RedisResult>[]? Acquires = null);

    [LoggerMessage(101, LogLevel.Debug, "Redlock quorum missed for lock '{Key}': {Granted} of {Primaries} primaries granted, {Failed} failed; gave the grants back")]
    private static partial void LogQuorumMissed(ILogger logger, string key, int granted, int primaries, int failed);
}
