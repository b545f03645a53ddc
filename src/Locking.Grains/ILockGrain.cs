using Orleans.Concurrency;

namespace Locking;

/// <summary>
/// The lock of one key in an Orleans cluster: grants at most one lease at a time, persisted with ETags before
/// every reply, with strictly increasing fencing tokens, a FIFO queue of waiters and expiry by a grain timer.
/// Keyed by the lock key. <see cref="OrleansLockProvider"/> is the client; calling the grain directly is for
/// tools and tests.
/// </summary>
[Alias("Locking.ILockGrain")]
public interface ILockGrain : IGrainWithStringKey
{
    /// <summary>
    /// Acquires the lease for <see cref="LockAcquireRequest.Owner"/>, parking the call in the key's FIFO queue
    /// for up to <see cref="LockAcquireRequest.Wait"/> (at most <see cref="LockGrainOptions.MaxWaitPerCall"/>).
    /// A repeated request of an owner that holds the lease returns the same grant, so a retry after a lost
    /// reply never takes a second lease.
    /// </summary>
    /// <remarks>
    /// Interleaves with every other call: a parked acquire must not block the holder's renew or release. Its
    /// response timeout (15 s) stays above the longest a call waits in the grain (its wait, 10 s at most with any
    /// wait for the record included, and up to 4 s more for a grant being written to it when the wait ends), and
    /// short enough that a request lost with a dying silo is sent again soon.
    /// </remarks>
    [Alias("Acquire")]
    [AlwaysInterleave]
    [ResponseTimeout("00:00:15")]
    Task<LockAcquireResult> AcquireAsync(LockAcquireRequest request, CancellationToken cancellationToken = default);

    /// <summary>Extends the lease to <paramref name="ttl"/> from now if <paramref name="owner"/> still holds it with <paramref name="fencingToken"/>.</summary>
    /// <returns><see langword="false"/> when the lease is gone: expired, released, or held by another owner.</returns>
    /// <remarks>A short response timeout: a renewal lost with a dying silo is retried well within the lease's TTL.</remarks>
    [Alias("Renew")]
    [ResponseTimeout("00:00:05")]
    Task<bool> RenewAsync(Guid owner, long fencingToken, TimeSpan ttl);

    /// <summary>Ends the lease if <paramref name="owner"/> holds it with <paramref name="fencingToken"/>, and hands it to the first waiter.</summary>
    /// <returns>Whether this call ended the lease.</returns>
    [Alias("Release")]
    [ResponseTimeout("00:00:05")]
    Task<bool> ReleaseAsync(Guid owner, long fencingToken);

    /// <summary>
    /// Withdraws whatever <paramref name="owner"/> asked for: removes its parked acquire, or releases the lease it
    /// was granted. The answer to an acquire whose caller gave up before the reply came (cancelled, timed out).
    /// </summary>
    [Alias("Abandon")]
    [ResponseTimeout("00:00:05")]
    Task AbandonAsync(Guid owner);

    /// <summary>What the activation knows about the key now, for diagnostics and tests.</summary>
    [Alias("Inspect")]
    [ReadOnly]
    [AlwaysInterleave]
    Task<LockGrainSnapshot> InspectAsync();
}

/// <summary>An acquire sent to a <see cref="ILockGrain"/>.</summary>
/// <param name="Owner">
/// The 128-bit random owner token; it doubles as the request id that makes retries idempotent, and as the ticket with
/// which the next call of a long wait takes back its place in the queue.
/// </param>
/// <param name="Ttl">The lease time-to-live.</param>
/// <param name="Wait">How long this call may wait in the queue; <see cref="TimeSpan.Zero"/> tries once.</param>
[GenerateSerializer]
[Alias("Locking.LockAcquireRequest")]
public sealed record LockAcquireRequest([property: Id(0)] Guid Owner, [property: Id(1)] TimeSpan Ttl, [property: Id(2)] TimeSpan Wait)
{
    /// <summary>
    /// The caller sends the same request again when this call's wait ends busy (a wait longer than one call): the
    /// grain keeps the waiter's place in the queue for <see cref="LockGrainOptions.RejoinWindow"/>, so that later
    /// arrivals do not overtake it, and the lease that comes free meanwhile waits for it. Default <see langword="false"/>:
    /// the waiter leaves the queue with its call.
    /// </summary>
    [Id(3)]
    public bool KeepPlace { get; init; }
}

/// <summary>The outcome of <see cref="ILockGrain.AcquireAsync"/>.</summary>
[GenerateSerializer]
[Alias("Locking.LockAcquireStatus")]
public enum LockAcquireStatus
{
    /// <summary>The lease is the caller's; <see cref="LockAcquireResult.FencingToken"/> is its token.</summary>
    Granted,

    /// <summary>Still held by another owner when this call's wait ran out.</summary>
    Busy,

    /// <summary>This activation cannot answer (it lost an ETag race or is deactivating): send the request again.</summary>
    Retry,
}

/// <summary>The answer of <see cref="ILockGrain.AcquireAsync"/>.</summary>
/// <param name="Status">Granted, busy, or retry.</param>
/// <param name="FencingToken">The token of the granted lease; 0 unless granted.</param>
/// <param name="Contended">Whether the request found the key held and had to wait or give up.</param>
/// <param name="Waited">
/// How long the grain held the request before the grant, on its own clock; negative when the grant was written before
/// this call arrived (a repeated request that took over a parked one). The lease's TTL runs from the grant, so the
/// caller counts its validity from the moment it sent the request plus this wait: never later than the grant.
/// </param>
[GenerateSerializer]
[Alias("Locking.LockAcquireResult")]
public sealed record LockAcquireResult(
    [property: Id(0)] LockAcquireStatus Status,
    [property: Id(1)] long FencingToken,
    [property: Id(2)] bool Contended,
    [property: Id(3)] TimeSpan Waited)
{
    internal static LockAcquireResult Busy { get; } = new(LockAcquireStatus.Busy, 0, true, TimeSpan.Zero);

    internal static LockAcquireResult Retry { get; } = new(LockAcquireStatus.Retry, 0, false, TimeSpan.Zero);

    internal static LockAcquireResult Granted(long fencingToken, bool contended, TimeSpan waited) => new(LockAcquireStatus.Granted, fencingToken, contended, waited);
}

/// <summary>A lock grain's view of its key.</summary>
/// <param name="Holder">The owner holding the lease, or <see langword="null"/> when the key is free.</param>
/// <param name="FencingToken">The last fencing token granted (also after the lease ended).</param>
/// <param name="ExpiresAt">When the current lease ends unless renewed; <see langword="null"/> when free.</param>
/// <param name="Waiters">How many acquires wait in the queue: parked, or between two calls of one wait (<see cref="LockAcquireRequest.KeepPlace"/>).</param>
/// <param name="FirstGrantNotBefore">
/// When the activation found no record and the record may have been lost: the end of its lock-delay.
/// </param>
[GenerateSerializer]
[Alias("Locking.LockGrainSnapshot")]
public sealed record LockGrainSnapshot(
    [property: Id(0)] Guid? Holder,
    [property: Id(1)] long FencingToken,
    [property: Id(2)] DateTimeOffset? ExpiresAt,
    [property: Id(3)] int Waiters,
    [property: Id(4)] DateTimeOffset? FirstGrantNotBefore);
