namespace Locking;

/// <summary>How a <see cref="RedisLockProvider"/> names its keys and talks to Redis.</summary>
public sealed record RedisLockProviderOptions
{
    /// <summary>The longest <see cref="KeyPrefix"/>, in characters.</summary>
    public const int MaxKeyPrefixLength = 256;

    /// <summary>The options every property of which has its default.</summary>
    public static RedisLockProviderOptions Default { get; } = new();

    /// <summary>
    /// The text in front of every Redis key the provider writes. Default "lock:": the lease of "orders/42" lives in
    /// "lock:{orders/42}" and its fencing counter in "lock:{orders/42}:fence". It may not contain braces, which
    /// would move the Redis Cluster hash tag.
    /// </summary>
    public string KeyPrefix { get; init; } = "lock:";

    /// <summary>The Redis database number; -1 (the default) uses the connection's default database.</summary>
    public int Database { get; init; } = -1;

    /// <summary>
    /// The longest a single request to Redis may go unanswered before it counts as failed. An acquire waits at most
    /// its <see cref="LockOptions.Wait"/>, and a request already sent is given at least this long to answer, so
    /// a one-shot acquire (Wait zero) on an unreachable server fails after this time. Default 2 s.
    /// </summary>
    public TimeSpan StoreTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How much longer than its lease a key's fencing counter is kept. The counter only matters while the server
    /// clock has not yet passed the last token, so a short time suffices; the counter then expires, so that a
    /// million distinct keys leave no million counters behind. Default 1 minute.
    /// </summary>
    public TimeSpan FencingCounterRetention { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a waiter's place in a key's wait queue is kept without a word from its process (a waiter refreshes its
    /// place every third of this, or of the lease TTL when that is shorter). This bounds how long a waiter whose
    /// process died or froze holds up the waiters behind it: its place expires after this, or, if the key was handed
    /// to it just before, its lease expires after its TTL like any crashed holder's. Default 5 s.
    /// </summary>
    public TimeSpan QueuedWaiterTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Sharded pub/sub (SSUBSCRIBE/SPUBLISH) for the notices, or classic pub/sub; <see langword="null"/> (the default)
    /// decides by the server version, as the scripts do. For tests of the classic path on a Redis 7 server.
    /// </summary>
    internal bool? ShardedNotices { get; init; }

    internal RedisLockProviderOptions Validated()
    {
        if (KeyPrefix is null)
        {
            throw new ArgumentNullException(nameof(KeyPrefix), "The Redis key prefix may be empty but not null.");
        }

        if (KeyPrefix.Length > MaxKeyPrefixLength)
        {
            throw new ArgumentException($"The Redis key prefix may be at most {MaxKeyPrefixLength} characters; it has {KeyPrefix.Length}.", nameof(KeyPrefix));
        }

        if (KeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            throw new ArgumentException($"The Redis key prefix may not contain '{{' or '}}' (they would move the cluster hash tag); it was '{KeyPrefix}'.", nameof(KeyPrefix));
        }

        if (Database < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(Database), Database, $"The Redis database must be -1 (the connection's default) or a database number; it was {Database}.");
        }

        if (StoreTimeout <= TimeSpan.Zero || StoreTimeout > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentOutOfRangeException(nameof(StoreTimeout), StoreTimeout, $"The Redis store timeout must be positive and at most 5 minutes; it was {StoreTimeout}.");
        }

        if (FencingCounterRetention < TimeSpan.FromSeconds(1) || FencingCounterRetention > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(FencingCounterRetention), FencingCounterRetention, $"The fencing counter retention must be between 1 second and 1 day; it was {FencingCounterRetention}.");
        }

        if (QueuedWaiterTimeout < TimeSpan.FromMilliseconds(30) || QueuedWaiterTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentOutOfRangeException(nameof(QueuedWaiterTimeout), QueuedWaiterTimeout, $"The queued waiter timeout must be between 30 ms and 10 minutes; it was {QueuedWaiterTimeout}.");
        }

        return this;
    }
}
