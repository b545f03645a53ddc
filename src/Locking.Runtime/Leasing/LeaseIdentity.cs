namespace Locking;

/// <summary>What a store needs to know to renew or release one lease: its key, its owner and its fencing token.</summary>
/// <param name="Key">The lock key as the user gave it.</param>
/// <param name="Owner">The holder's 128-bit random owner token.</param>
/// <param name="FencingToken">The fencing token the store granted.</param>
public readonly record struct LeaseIdentity(string Key, Guid Owner, long FencingToken)
{
    /// <summary>What the store kept of this lease at its grant (<see cref="LeaseGrant.StoreState"/>), or <see langword="null"/>.</summary>
    public object? StoreState { get; init; }
}

/// <summary>What a store is asked for when a lease is to be acquired.</summary>
/// <param name="Key">The lock key.</param>
/// <param name="Owner">A fresh 128-bit random owner token for the lease.</param>
/// <param name="Ttl">The lease time-to-live.</param>
/// <param name="Wait">The longest wait for a busy key; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
public readonly record struct LeaseRequest(string Key, Guid Owner, TimeSpan Ttl, TimeSpan Wait);

/// <summary>A store's grant of a lease.</summary>
/// <param name="FencingToken">The fencing token of the new lease.</param>
/// <param name="RequestTimestamp">
/// The <see cref="TimeProvider.GetTimestamp"/> taken just before the successful request was sent: the lease's
/// validity is counted from then, so that time spent in flight never extends it.
/// </param>
public readonly record struct LeaseGrant(long FencingToken, long RequestTimestamp)
{
    /// <summary>
    /// Anything the store wants back with this lease's renewals and release (say, its store keys and arguments,
    /// built once instead of at every call); handed back as <see cref="LeaseIdentity.StoreState"/>.
    /// </summary>
    public object? StoreState { get; init; }
}
