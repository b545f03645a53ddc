namespace Locking;

/// <summary>How the lock grains of a silo grant leases. Configure with <c>siloBuilder.AddLockGrains(options => ...)</c>.</summary>
public sealed class LockGrainOptions
{
    /// <summary>
    /// The name under which the lock grains find their grain storage. <see cref="LockGrainsSiloBuilderExtensions.AddLockGrains(Orleans.Hosting.ISiloBuilder, Action{LockGrainOptions}?)"/>
    /// registers memory storage under it; the overload that takes a storage name points it at yours.
    /// </summary>
    public const string StorageName = "Locking";

    /// <summary>
    /// The longest lease time-to-live a grain grants, and so the longest a lease can outlive a lost record.
    /// Longer requests are refused with <see cref="ArgumentOutOfRangeException"/>. Default 5 minutes.
    /// </summary>
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How far the clocks of two silos may disagree. A lease read from storage (granted by another activation)
    /// is trusted to live this much longer than its recorded end. Default 1 second.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The lock-delay: how long after a moment at which records may have been lost (see <see cref="RecordLoss"/>) an
    /// activation that finds no record waits before its first grant, so that a lease granted from the lost record
    /// has ended. Default <see cref="MaxTtl"/> + <see cref="ClockSkew"/>.
    /// </summary>
    public TimeSpan? LockDelay { get; set; }

    /// <summary>
    /// When the storage may have lost records. A record-less activation within <see cref="EffectiveLockDelay"/> of
    /// such a moment waits out the rest of it; afterwards (a fresh key on a stable cluster) it grants at once.
    /// Default: <see cref="LockRecordLoss.SiloDeparture"/> for the memory storage of <c>AddLockGrains()</c> (its
    /// partitions die with their silo), <see cref="LockRecordLoss.None"/> for a storage you name (durable). Either
    /// way a record found missing under a live activation opens the delay, and a record-less activation seeds its
    /// fencing tokens from the clock, so tokens never restart.
    /// </summary>
    public LockRecordLoss RecordLoss { get; set; } = LockRecordLoss.SiloDeparture;

    /// <summary>
    /// The longest a single acquire call waits in a grain's queue; longer waits are re-issued by the provider.
    /// At most 10 s, well below the call's 15 s response timeout. Default 10 seconds.
    /// </summary>
    public TimeSpan MaxWaitPerCall { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a waiter whose call ended busy keeps its place in the queue for the next call of its wait
    /// (<see cref="LockAcquireRequest.KeepPlace"/>). The provider sends that call at once, so this only has to cover a
    /// round trip on a busy machine; a waiter whose client died meanwhile holds up the key this long at most. Default 2 seconds.
    /// </summary>
    public TimeSpan RejoinWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The lock-delay in force: <see cref="LockDelay"/>, or <see cref="MaxTtl"/> + <see cref="ClockSkew"/>.</summary>
    public TimeSpan EffectiveLockDelay => LockDelay ?? MaxTtl + ClockSkew;

    internal void Validate()
    {
        if (MaxTtl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTtl), MaxTtl, $"LockGrainOptions.MaxTtl must be positive; it was {MaxTtl}.");
        }

        if (ClockSkew < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ClockSkew), ClockSkew, $"LockGrainOptions.ClockSkew must not be negative; it was {ClockSkew}.");
        }

        if (LockDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(LockDelay), LockDelay, $"LockGrainOptions.LockDelay must not be negative; it was {LockDelay}.");
        }

        if (RejoinWindow <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RejoinWindow), RejoinWindow, $"LockGrainOptions.RejoinWindow must be positive; it was {RejoinWindow}.");
        }

        if (MaxWaitPerCall <= TimeSpan.Zero || MaxWaitPerCall > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWaitPerCall), MaxWaitPerCall, $"LockGrainOptions.MaxWaitPerCall must be positive and at most 10 s (the call's response timeout is 15 s); it was {MaxWaitPerCall}.");
        }
    }
}

/// <summary>The moments at which a lock grain storage may have lost records.</summary>
[Flags]
public enum LockRecordLoss
{
    /// <summary>The storage keeps its records (a durable store): only a record found missing under a live activation counts.</summary>
    None = 0,

    /// <summary>A silo left the cluster (died or shut down): memory storage partitions it hosted are gone.</summary>
    SiloDeparture = 1,

    /// <summary>
    /// This silo started: the storage may have come back empty while lease holders outside the silo lived on
    /// (a Redis without persistence restarted with the cluster, an embedded silo serving external clients).
    /// </summary>
    SiloStart = 2,
}
