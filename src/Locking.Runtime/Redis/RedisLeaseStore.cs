using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// The store operations of a <see cref="RedisLockProvider"/> in one mode: <see cref="RedisPrimaryLeases"/> on one
/// deployment (a server, a primary with replicas, a cluster), <see cref="RedlockLeases"/> across independent primaries.
/// What both share lives here: the provider's settings, the clock arithmetic, and the script arguments of a lease.
/// </summary>
internal abstract partial class RedisLeaseStore
{
    private long _acquireAttempts;

    protected RedisLeaseStore(RedisLockProvider provider, RedisLockProviderOptions options, TimeProvider time, ILogger logger)
    {
        Provider = provider;
        Options = options;
        Time = time;
        Logger = logger;
        Keyspace = new RedisKeyspace(options.KeyPrefix);
        Process = new ProcessId();
        var publish = options.ShardedNotices switch
        {
            true => (RedisValue)"SPUBLISH",
            false => (RedisValue)"PUBLISH",
            null => RedisValue.EmptyString,
        };
        Settings = new LeaseScriptSettings(ToMilliseconds(options.FencingCounterRetention), publish, Process);
    }

    public RedisLockProvider Provider { get; }

    public RedisLockProviderOptions Options { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public RedisKeyspace Keyspace { get; }

    public ProcessId Process { get; }

    public LeaseScriptSettings Settings { get; }

    /// <summary>How many acquire requests this store sent (each one round trip, to every primary with Redlock).</summary>
    public long AcquireAttempts => Interlocked.Read(ref _acquireAttempts);

    public abstract ValueTask<LeaseGrant?> AcquireAsync(LeaseRequest request, CancellationToken cancellationToken);

    public abstract ValueTask<bool> RenewAsync(LeaseIdentity lease, TimeSpan ttl, CancellationToken cancellationToken);

    public abstract ValueTask ReleaseAsync(LeaseIdentity lease, CancellationToken cancellationToken);

    /// <summary>Ends every wait and unsubscribes, bounded by the store timeout.</summary>
    public abstract Task DisposeAsync();

    /// <summary>The notices of the primary at <paramref name="index"/> (for tests).</summary>
    public abstract RedisKeyNotices Notices(int index = 0);

    protected void CountAttempt() => Interlocked.Increment(ref _acquireAttempts);

    /// <summary>How long a queued waiter's place lives without a refresh: the configured timeout, or the lease TTL when shorter.</summary>
    protected long QueueLifetimeMs(TimeSpan ttl) => ToMilliseconds(ttl < Options.QueuedWaiterTimeout ? ttl : Options.QueuedWaiterTimeout);

    /// <summary>The script arguments of a lease: the ones its acquire built, or new ones for an identity made elsewhere.</summary>
    /// <remarks><paramref name="ttlMs"/> is the TTL to send, or <see langword="null"/> when the script does not read it (release).</remarks>
    protected LeaseArguments Arguments(LeaseIdentity identity, long? ttlMs, LeaseMode mode)
        => identity.StoreState is LeaseArguments built
            ? (ttlMs is { } ttl ? built.WithTtl(ttl) : built)
            : new LeaseArguments(Settings, Keyspace.LockKey(identity.Key), identity.Owner, ttlMs ?? 1, 0, identity.Owner, mode);

    /// <summary>How long a request may go unanswered within a wait that ends at <paramref name="deadline"/>: what is left of it, and at least the store timeout.</summary>
    protected TimeSpan AttemptBound(long deadline)
    {
        if (deadline == long.MaxValue)
        {
            return Timeout.InfiniteTimeSpan;
        }

        var remaining = Time.GetElapsedTime(Time.GetTimestamp(), deadline);
        return remaining > Options.StoreTimeout ? remaining : Options.StoreTimeout;
    }

    protected long Deadline(TimeSpan wait)
    {
        if (wait == Timeout.InfiniteTimeSpan)
        {
            return long.MaxValue;
        }

        var ticks = wait.Ticks * (double)Time.TimestampFrequency / TimeSpan.TicksPerSecond;
        var now = Time.GetTimestamp();
        return ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
    }

    protected long ToTimestampTicks(TimeSpan span) => (long)(span.Ticks * (double)Time.TimestampFrequency / TimeSpan.TicksPerSecond);

    /// <summary>When, at the latest, a waiter told <paramref name="answer"/> at <paramref name="now"/> should look again for an expired holder.</summary>
    /// <remarks>
    /// PTTL truncates to whole ms and Redis's clock ticks apart from ours: 2 ms more, so the look does not come a tick
    /// early and find the key still there.
    /// </remarks>
    protected long HolderEnds(RedisLeaseScripts.AcquireResult answer, long now)
        => answer.HolderRemaining is { } remaining ? now + ToTimestampTicks(remaining + TimeSpan.FromMilliseconds(2)) : long.MaxValue;

    public static long ToMilliseconds(TimeSpan span) => Math.Max(1, (long)Math.Ceiling(span.TotalMilliseconds));

    public static RedisTimeoutException NoAnswer(string message) => new(CommandFlags.None, message, CommandStatus.Sent);

    [LoggerMessage(102, LogLevel.Debug, "An abandoned acquire of lock '{Key}' was granted after the caller gave up; released it")]
    protected static partial void LogAbandonedGrantReleased(ILogger logger, string key);

    [LoggerMessage(103, LogLevel.Warning, "An abandoned acquire of lock '{Key}' was granted after the caller gave up and could not be released; it ends by its TTL")]
    protected static partial void LogAbandonedGrantNotReleased(ILogger logger, Exception error, string key);
}
