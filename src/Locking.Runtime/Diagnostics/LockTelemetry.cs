using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Locking;

/// <summary>
/// Logs, traces and metrics of one provider. The <see cref="ActivitySource"/> and the <see cref="Meter"/> are
/// both named "Locking", so <c>AddSource("Locking")</c> / <c>AddMeter("Locking")</c> is all OpenTelemetry needs.
/// </summary>
internal sealed partial class LockTelemetry(string storeName, ILogger logger)
{
    public const string Name = "Locking";

    private static readonly ActivitySource s_activities = new(Name);
    private static readonly Meter s_meter = new(Name);

    private static readonly Histogram<double> s_acquireDuration = s_meter.CreateHistogram<double>(
        "locking.acquire.duration", "ms", "Time from the acquire call to the grant, waits included.");
    private static readonly Histogram<double> s_waitDuration = s_meter.CreateHistogram<double>(
        "locking.wait.duration", "ms", "Time spent waiting for a busy key, granted or not.");
    private static readonly Counter<long> s_contended = s_meter.CreateCounter<long>(
        "locking.contended", "{acquire}", "Acquires that found the key held by another owner.");
    private static readonly Counter<long> s_notAcquired = s_meter.CreateCounter<long>(
        "locking.not_acquired", "{acquire}", "Acquires still busy when the wait ran out.");
    private static readonly UpDownCounter<long> s_held = s_meter.CreateUpDownCounter<long>(
        "locking.leases.held", "{lease}", "Leases held now.");
    private static readonly Counter<long> s_lost = s_meter.CreateCounter<long>(
        "locking.leases.lost", "{lease}", "Leases lost while held: expired, taken, or not confirmed in time.");

    private readonly KeyValuePair<string, object?> _storeTag = new("locking.store", storeName);

    public string StoreName { get; } = storeName;

    public static Activity? StartAcquire(string store, string key)
    {
        if (!s_activities.HasListeners())
        {
            return null;
        }

        var activity = s_activities.StartActivity("locking.acquire", ActivityKind.Client);
        activity?.SetTag("locking.store", store);
        activity?.SetTag("locking.key", key);
        return activity;
    }

    public void Contended(string key) => s_contended.Add(1, _storeTag);

    public void Acquired(ManagedLease lease, TimeSpan elapsed, Activity? activity)
    {
        s_acquireDuration.Record(elapsed.TotalMilliseconds, _storeTag);
        s_held.Add(1, _storeTag);
        activity?.SetTag("locking.fencing_token", lease.FencingToken);
        LogAcquired(lease.Key, lease.FencingToken, elapsed.TotalMilliseconds);
    }

    public void NotAcquired(string key, TimeSpan waited, Activity? activity)
    {
        s_notAcquired.Add(1, _storeTag);
        s_waitDuration.Record(waited.TotalMilliseconds, _storeTag);
        activity?.SetTag("locking.acquired", false);
        LogNotAcquired(key, waited.TotalMilliseconds);
    }

    public void Renewed(ManagedLease lease) => LogRenewed(lease.Key, lease.FencingToken);

    public void RenewFailed(ManagedLease lease, Exception error) => LogRenewFailed(error, lease.Key, lease.FencingToken);

    public void Lost(ManagedLease lease, Exception? cause)
    {
        s_lost.Add(1, _storeTag);
        LogLost(cause, lease.Key, lease.FencingToken);
    }

    public void Released(ManagedLease lease)
    {
        s_held.Add(-1, _storeTag);
        LogReleased(lease.Key, lease.FencingToken);
    }

    public void ReleaseFailed(ManagedLease lease, Exception error) => ReleaseFailed(lease.Key, lease.FencingToken, error);

    public void ReleaseFailed(string key, long fencingToken, Exception error) => LogReleaseFailed(error, key, fencingToken);

    public void LateGrant(ManagedLease lease) => LogLateGrant(lease.Key, lease.FencingToken, lease.Ttl.TotalMilliseconds);

    [LoggerMessage(1, LogLevel.Debug, "Acquired lock '{Key}' with fencing token {FencingToken} in {ElapsedMs:0.0} ms")]
    private partial void LogAcquired(string key, long fencingToken, double elapsedMs);

    [LoggerMessage(2, LogLevel.Debug, "Lock '{Key}' still busy after waiting {WaitedMs:0.0} ms")]
    private partial void LogNotAcquired(string key, double waitedMs);

    [LoggerMessage(3, LogLevel.Trace, "Renewed lock '{Key}' (fencing token {FencingToken})")]
    private partial void LogRenewed(string key, long fencingToken);

    [LoggerMessage(4, LogLevel.Warning, "Could not renew lock '{Key}' (fencing token {FencingToken}); retrying until its local validity runs out")]
    private partial void LogRenewFailed(Exception error, string key, long fencingToken);

    [LoggerMessage(5, LogLevel.Warning, "Lost lock '{Key}' (fencing token {FencingToken}) while it was held")]
    private partial void LogLost(Exception? error, string key, long fencingToken);

    [LoggerMessage(6, LogLevel.Debug, "Released lock '{Key}' (fencing token {FencingToken})")]
    private partial void LogReleased(string key, long fencingToken);

    [LoggerMessage(8, LogLevel.Warning, "The grant of lock '{Key}' (fencing token {FencingToken}) came back later than its {TtlMs} ms TTL allows; gave it back and asking again")]
    private partial void LogLateGrant(string key, long fencingToken, double ttlMs);

    [LoggerMessage(7, LogLevel.Warning, "Could not release lock '{Key}' (fencing token {FencingToken}); it ends by its TTL")]
    private partial void LogReleaseFailed(Exception error, string key, long fencingToken);
}
