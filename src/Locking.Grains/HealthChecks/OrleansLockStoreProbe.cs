using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

[assembly: Locking.LockStoreProbe(typeof(Locking.OrleansLockProvider), typeof(Locking.OrleansLockStoreProbe))]

namespace Locking;

/// <summary>
/// Asks a lock grain for its state: the call goes through the cluster to the grain's activation and back, so it
/// answers only when the cluster is reachable and the lock grains are hosted.
/// </summary>
internal sealed class OrleansLockStoreProbe : ILockStoreProbe
{
    /// <summary>The key of the grain the probe asks: one per cluster, never used for a lease.</summary>
    public const string ProbeKey = "locking:health-probe";

    public string StoreName => "orleans";

    public async Task<HealthCheckResult> CheckAsync(ILockProvider provider, IServiceProvider services, HealthStatus failureStatus, CancellationToken cancellationToken)
    {
        var grains = services.GetRequiredService<IGrainFactory>();
        var started = Stopwatch.GetTimestamp();
        await grains.GetGrain<ILockGrain>(ProbeKey).InspectAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var roundTrip = Stopwatch.GetElapsedTime(started);
        return HealthCheckResult.Healthy(
            $"Orleans lock grains answered in {roundTrip.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms.",
            new Dictionary<string, object>
            {
                ["store"] = StoreName,
                ["round_trip_ms"] = Math.Round(roundTrip.TotalMilliseconds, 3),
            });
    }
}
