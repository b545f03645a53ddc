namespace Locking;

/// <summary>How a lease is acquired and kept.</summary>
public sealed record LockOptions
{
    /// <summary>The options every property of which has its default.</summary>
    public static LockOptions Default { get; } = new();

    /// <summary>The longest time-to-live a lease may ask for.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(1);

    /// <summary>The lease time-to-live in the store. Default 30 s; at most one day.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest wait for a busy key. Default 5 s; <see cref="TimeSpan.Zero"/> tries once;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits until the key is free or the call is cancelled.
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

        if (Wait < TimeSpan.Zero && Wait != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(Wait), Wait, $"The lock Wait must be zero or positive, or Timeout.InfiniteTimeSpan; it was {Wait}.");
        }
    }
}
