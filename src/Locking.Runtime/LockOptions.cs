namespace Locking;

/// <summary>How a lease is acquired and kept.</summary>
public sealed record LockOptions
{
    /// <summary>The options every property of which has its default.</summary>
    public static LockOptions Default { get; } = new();

    /// <summary>The longest time-to-live a lease may ask for.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(1);

    /// <summary>The shortest time-to-live a lease may ask for: 100 ms.</summary>
    /// <remarks>
    /// A holder stops trusting its lease a drift margin (1 % of the Ttl plus 10 ms) before the store's TTL ends, and
    /// the grant needs a round trip to reach it: with a Ttl of a few milliseconds the lease would be over before the
    /// holder could use it. 100 ms leaves room for both on a busy machine.
    /// </remarks>
    public static readonly TimeSpan MinTtl = TimeSpan.FromMilliseconds(100);

    /// <summary>The lease time-to-live in the store. Default 30 s; at least <see cref="MinTtl"/> (100 ms), at most <see cref="MaxTtl"/> (one day).</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest wait for a busy key. Default 5 s; <see cref="TimeSpan.Zero"/> tries once;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits until the key is free or the call is cancelled. Timeout.InfiniteTimeSpan
    /// is -1 ms, the one negative value accepted: any other negative Wait is refused.
    /// </summary>
    /// <remarks>
    /// Waiters of one provider are served first come, first served: a zero-wait try of a key that other callers
    /// of the same provider are already waiting for gives up at once, without asking the store, rather than take
    /// the key ahead of them.
    /// </remarks>
    public TimeSpan Wait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether the lease renews itself every Ttl/3 while held. Default <see langword="true"/>.</summary>
    public bool Renew { get; init; } = true;

    internal void Validate()
    {
        if (Ttl <= TimeSpan.Zero || Ttl > MaxTtl)
        {
            throw new ArgumentOutOfRangeException(nameof(Ttl), Ttl, $"The lease Ttl must be positive and at most {MaxTtl}; it was {Ttl}.");
        }

        if (Ttl < MinTtl)
        {
            throw new ArgumentOutOfRangeException(
                nameof(Ttl),
                Ttl,
                $"The lease Ttl must be at least {MinTtl.TotalMilliseconds:0} ms (LockOptions.MinTtl); it was {Ttl.TotalMilliseconds:0.###} ms. " +
                "A holder stops trusting its lease 1 % of the Ttl plus 10 ms before the store's TTL ends, and the grant takes a round trip " +
                "to arrive: a shorter lease would be over before it could be used.");
        }

        if (Wait < TimeSpan.Zero && Wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(
                nameof(Wait),
                Wait,
                $"The lock Wait must be zero (try once), positive, or Timeout.InfiniteTimeSpan (wait until free); it was {Wait.TotalMilliseconds:0.###} ms.");
        }
    }
}
