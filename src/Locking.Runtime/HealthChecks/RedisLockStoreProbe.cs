using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

[assembly: Locking.LockStoreProbe(typeof(Locking.RedisLockProvider), typeof(Locking.RedisLockStoreProbe))]

namespace Locking;

/// <summary>PINGs every Redis server a <see cref="RedisLockProvider"/> uses.</summary>
internal sealed class RedisLockStoreProbe : ILockStoreProbe
{
    public string StoreName => "redis";

    public Task<HealthCheckResult> CheckAsync(ILockProvider provider, IServiceProvider services, HealthStatus failureStatus, CancellationToken cancellationToken)
        => ((RedisLockProvider)provider).CheckMastersAsync(failureStatus, cancellationToken);
}

/// <summary>The health check's view of the provider's servers.</summary>
public sealed partial class RedisLockProvider
{
    /// <summary>
    /// Healthy when every server answers a PING; with several independent masters, Degraded while a majority (the
    /// quorum that grants leases) still answers; <paramref name="failureStatus"/> otherwise.
    /// </summary>
    internal async Task<HealthCheckResult> CheckMastersAsync(HealthStatus failureStatus, CancellationToken cancellationToken)
    {
        var pings = new Task<TimeSpan>[_connections.Length];
        for (var i = 0; i < _connections.Length; i++)
        {
            // A connection with no server connected would only queue the PING until the check times out: say so now.
            var connection = _connections[i];
            pings[i] = connection.IsConnected
                ? connection.GetDatabase(Options.Database).PingAsync().WaitAsync(cancellationToken)
                : Task.FromException<TimeSpan>(new InvalidOperationException(
                    $"Not connected to {string.Join(", ", connection.GetEndPoints().Select(EndPointCollection.ToString))}."));
        }

        try
        {
            await Task.WhenAll(pings).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Each failure is read from its own task below.
        }

        cancellationToken.ThrowIfCancellationRequested();
        var answered = pings.Count(static ping => ping.IsCompletedSuccessfully);
        var roundTrip = answered > 0 ? pings.Where(static ping => ping.IsCompletedSuccessfully).Max(static ping => ping.Result) : TimeSpan.Zero;
        var data = new Dictionary<string, object>
        {
            ["store"] = "redis",
            ["servers"] = _connections.Length,
            ["answered"] = answered,
        };
        if (answered > 0)
        {
            data["round_trip_ms"] = Math.Round(roundTrip.TotalMilliseconds, 3);
        }

        var firstError = pings.FirstOrDefault(static ping => ping.IsFaulted)?.Exception?.GetBaseException();
        var ms = roundTrip.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);
        if (answered == _connections.Length)
        {
            return HealthCheckResult.Healthy(
                _connections.Length == 1 ? $"Redis answered in {ms} ms." : $"All {_connections.Length} Redis masters answered, the slowest in {ms} ms.",
                data);
        }

        if (_connections.Length == 1)
        {
            return new HealthCheckResult(failureStatus, $"Redis did not answer: {firstError?.Message}", firstError, data);
        }

        return answered >= Quorum
            ? HealthCheckResult.Degraded(
                $"{answered} of {_connections.Length} Redis masters answered (the slowest in {ms} ms): still a quorum of {Quorum}, but one more failure stops every lock. {firstError?.Message}",
                firstError,
                data)
            : new HealthCheckResult(
                failureStatus,
                $"Only {answered} of {_connections.Length} Redis masters answered; leases need {Quorum}. {firstError?.Message}",
                firstError,
                data);
    }
}
