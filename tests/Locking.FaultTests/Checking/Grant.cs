using System.Diagnostics;

namespace Locking.FaultTests.Checking;

/// <summary>
/// One lease as its worker's history tells it, and the hold the library itself believed valid:
/// [<see cref="GrantedAt"/>, <see cref="BelievedValidUntil"/>].
/// </summary>
/// <remarks>
/// The hold starts when AcquireAsync returned the lease (read after it returned). It ends at the later of
/// <list type="bullet">
/// <item>the earliest of: the release being sent, the loss being observed (LostToken fired, or IsLost said true), and
/// the local validity end of the grant, its request time + TTL - the library's drift margin (1 % + 10 ms); this is
/// what the library promises without renewing, and the request time used is when the worker called AcquireAsync, no
/// later than the library's own, so the end is never later than the library's;</item>
/// <item>the last time the library said the lease was still held (IsLost false, the clock read before asking):
/// renewals extend the validity inside the library, and only its answers show how far.</item>
/// </list>
/// Every instant in the hold is one at which the library told the holder, or would have told it, "held".
/// </remarks>
public sealed class Grant
{
    public required string Worker { get; init; }

    public required string Key { get; init; }

    /// <summary>The worker's own number of this grant.</summary>
    public required int Number { get; init; }

    public required long Token { get; init; }

    public required TimeSpan Ttl { get; init; }

    /// <summary>When the acquire was sent: the store granted between this and <see cref="GrantedAt"/>.</summary>
    public required long RequestedAt { get; init; }

    /// <summary>When AcquireAsync had returned (read after it returned).</summary>
    public required long GrantedAt { get; init; }

    /// <summary>The last time the library said the lease was held (read before it was asked); at least <see cref="GrantedAt"/>.</summary>
    public long LastAffirmedAt { get; set; }

    /// <summary>When LostToken fired, if it did.</summary>
    public long? LostAt { get; set; }

    /// <summary>When the worker first saw the lease lost (LostToken, or IsLost true before a write or the release).</summary>
    public long? LossObservedAt { get; set; }

    public bool SeenLost => LossObservedAt is not null;

    /// <summary>When the release was called, if it was.</summary>
    public long? ReleaseAt { get; set; }

    /// <summary>The local validity end without renewals: request time + TTL - drift margin.</summary>
    public long LocalValidityEnd
    {
        get
        {
            var safe = Ttl - (TimeSpan.FromTicks(Ttl.Ticks / 100) + TimeSpan.FromMilliseconds(10));
            return RequestedAt + (long)(safe.TotalSeconds * Stopwatch.Frequency);
        }
    }

    /// <summary>The end of the hold the library believed valid (see the type's remarks).</summary>
    public long BelievedValidUntil
        => Math.Max(LastAffirmedAt, Math.Min(Math.Min(ReleaseAt ?? long.MaxValue, LossObservedAt ?? long.MaxValue), LocalValidityEnd));

    public void ObserveLoss(long at) => LossObservedAt = Math.Min(LossObservedAt ?? long.MaxValue, at);

    public override string ToString() => $"{Worker}#{Number} (token {Token})";
}

/// <summary>What the workers asked of the store per grant: <paramref name="Text"/> for the report, one figure per store (or Redlock master).</summary>
public sealed record StoreLoad(string Text, IReadOnlyList<double> RequestsPerGrant);

/// <summary>A lock key found held in the store at the end, and when it was set (estimated from its remaining TTL), if known.</summary>
public sealed record LeakedKey(string Description, long? SetAt);
