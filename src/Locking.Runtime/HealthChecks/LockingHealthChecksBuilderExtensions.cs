using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Locking;

/// <summary>Adds the lock store's health check: <c>services.AddHealthChecks().AddLocking()</c>.</summary>
public static class LockingHealthChecksBuilderExtensions
{
    /// <summary>The name of the check unless another is given.</summary>
    public const string DefaultName = "locking";

    /// <summary>How long the check waits for the store unless another timeout is given.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Checks whether the store of the registered <see cref="ILockProvider"/> answers, and reports its round-trip time
    /// (<c>round_trip_ms</c> in the result's data). Redis: a PING to each server the provider uses; with Redlock,
    /// Degraded while a majority still answers. Orleans (Locking.Orleans): a call to a lock grain.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name; <see cref="DefaultName"/> by default.</param>
    /// <param name="failureStatus">What a store that does not answer reports; <see cref="HealthStatus.Unhealthy"/> by default.</param>
    /// <param name="tags">Tags to filter checks by, for example "ready".</param>
    /// <param name="timeout">How long to wait for the store; <see cref="DefaultTimeout"/> by default.</param>
    public static IHealthChecksBuilder AddLocking(
        this IHealthChecksBuilder builder,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return builder.Add(new HealthCheckRegistration(
            name,
            static services => new LockStoreHealthCheck(services),
            failureStatus,
            tags,
            timeout ?? DefaultTimeout));
    }
}
