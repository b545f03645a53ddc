namespace Locking.FaultTests.Checking;

/// <summary>
/// One lease as its worker's history tells it. The hold the library itself believed valid is
/// [<see cref="GrantedAt"/>, <see cref="LastAffirmedAt"/>]: from the moment AcquireAsync returned the lease to the
/// last moment the library said it still held it (IsLost false, asked before a write or the release). It ends no
/// later than the release, the loss and the local validity end, because after those IsLost never says false again.
/// </summary>
public sealed class Grant
{
    public required string Worker { get; init; }

    public required string Key { get; init; }

    /// <summary>The worker's own number of this grant.</summary>
    public required int Number { get; init; }

    public required long Token { get; init; }

    /// <summary>When the acquire was sent: the store granted between this and <see cref="GrantedAt"/>.</summary>
    public required long RequestedAt { get; init; }

    /// <summary>When AcquireAsync had returned (read after it returned).</summary>
    public required long GrantedAt { get; init; }

    /// <summary>The last time the library said the lease was held (read before it was asked); at least <see cref="GrantedAt"/>.</summary>
    public long LastAffirmedAt { get; set; }

    /// <summary>When LostToken fired, if it did.</summary>
    public long? LostAt { get; set; }

    /// <summary>Whether the worker saw the lease lost (LostToken, or IsLost true before a write or the release).</summary>
    public bool SeenLost { get; set; }

    /// <summary>When the release was called, if it was.</summary>
    public long? ReleaseAt { get; set; }

    public override string ToString() => $"{Worker}#{Number} (token {Token})";
}

/// <summary>What the workers asked of the store per grant: <paramref name="Text"/> for the report, one figure per store (or Redlock master).</summary>
public sealed record StoreLoad(string Text, IReadOnlyList<double> RequestsPerGrant);

/// <summary>A lock key found held in the store at the end, and when it was set (estimated from its remaining TTL), if known.</summary>
public sealed record LeakedKey(string Description, long? SetAt);
