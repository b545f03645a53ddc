namespace Locking;

/// <summary>
/// What the lock stores registered by <see cref="LockingServiceCollectionExtensions.AddLocking"/> record in logs and
/// traces; set with <see cref="LockingBuilder.ConfigureTelemetry"/>.
/// </summary>
/// <remarks>
/// The meter and the activity source are both named "Locking": <c>AddMeter("Locking")</c> and <c>AddSource("Locking")</c>.
/// Metrics never carry lock keys.
/// </remarks>
public sealed class LockingTelemetryOptions
{
    /// <summary>
    /// Whether logs name the lock key and acquire spans carry it as <c>locking.key</c>. Default <see langword="true"/>.
    /// Turn it off when keys carry personal data (<c>"users/{email}"</c>): logs then say "(key hidden)", and the
    /// fencing token still tells one lease from another.
    /// </summary>
    public bool IncludeKeys { get; set; } = true;
}
