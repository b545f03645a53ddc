namespace Locking;

/// <summary>
/// The persisted state of one lock key: the source of truth. Written with its ETag before every reply that
/// grants, renews or releases, and never cleared, so the fencing counter survives every activation.
/// </summary>
[GenerateSerializer]
[Alias("Locking.LockRecord")]
internal sealed class LockRecord
{
    /// <summary>The last fencing token granted; the next grant takes <c>LastToken + 1</c>.</summary>
    [Id(0)]
    public long LastToken { get; set; }

    /// <summary>The owner of the current lease; <see cref="Guid.Empty"/> when none was granted or it was released.</summary>
    [Id(1)]
    public Guid Holder { get; set; }

    /// <summary>The fencing token of the current lease.</summary>
    [Id(2)]
    public long HolderToken { get; set; }

    /// <summary>When the current lease ends unless renewed, on the clock of the silo that wrote it.</summary>
    [Id(3)]
    public DateTimeOffset ExpiresAt { get; set; }

    public bool HasHolder => Holder != Guid.Empty;

    public LockRecord Copy() => (LockRecord)MemberwiseClone();

    public void CopyFrom(LockRecord other)
    {
        LastToken = other.LastToken;
        Holder = other.Holder;
        HolderToken = other.HolderToken;
        ExpiresAt = other.ExpiresAt;
    }
}
