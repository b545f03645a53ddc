using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Locking;

/// <summary>
/// Logs, traces and metrics of one provider. The <see cref="ActivitySource"/> and the <see cref="Meter"/> are
/// both named "Locking", so <c>AddSource("Locking")</c> / <c>AddMeter("Locking")</c> is all OpenTelemetry needs.
/// </summary>
/// <remarks>
/// Names follow the OpenTelemetry conventions: durations are histograms in seconds, counts of things are counters
/// named by the plural of the thing with a <c>{unit}</c>, attributes are namespaced (<c>locking.*</c>) and a failure
/// carries <c>error.type</c>. Metrics never carry the key (one series per key would have no bound, and a key may be
/// personal data); traces and logs do unless <see cref="IncludeKeys"/> is turned off.
/// </remarks>
internal sealed partial class LockTelemetry(string storeName, ILogger logger)
{
    public const string Name = "Locking";

    /// <summary>What logs say instead of the key when keys are kept out of telemetry.</summary>
    public const string HiddenKey = "(key hidden)";

    private static readonly string? s_version = typeof(LockTelemetry).Assembly.GetName().Version?.ToString(3);
    private static readonly ActivitySource s_activities = new(Name, s_version);
    private static readonly Meter s_meter = new(Name, s_version);

    // An acquire takes from a fraction of a millisecond (one uncontended round trip) to its whole wait.
    private static readonly IReadOnlyList<double> s_acquireBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    // A lease is held from a few milliseconds (a short critical section) to hours (a nightly job).
    private static readonly IReadOnlyList<double> s_holdBuckets =
        [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

    private static readonly Histogram<double> s_acquireDuration = s_meter.CreateHistogram(
        "locking.acquire.duration", "s", "Time from an acquire call to its outcome: acquired, busy after the wait, cancelled or failed.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_acquireBuckets });

    private static readonly Histogram<double> s_waitDuration = s_meter.CreateHistogram(
        "locking.wait.duration", "s", "Time an acquire that found the key held by another owner spent until it was granted or gave up.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_acquireBuckets });

    private static readonly Histogram<double> s_holdDuration = s_meter.CreateHistogram(
        "locking.hold.duration", "s", "Time from the grant of a lease to its release.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_holdBuckets });

    private static readonly Counter<long> s_contendedAcquires = s_meter.CreateCounter<long>(
        "locking.contended_acquires", "{acquire}", "Acquires that found the key held by another owner.");

    private static readonly Counter<long> s_lostLeases = s_meter.CreateCounter<long>(
        "locking.lost_leases", "{lease}", "Leases lost while held: no renewal was confirmed in time, or the store no longer had them.");

    private static readonly UpDownCounter<long> s_activeLeases = s_meter.CreateUpDownCounter<long>(
        "locking.active_leases", "{lease}", "Leases held now: granted and not yet released.");

    // The acquire in flight in this async flow, so that the store's report of contention reaches its wait histogram
    // and its span. Set only while something listens: it costs an execution context per acquire.
    private static readonly AsyncLocal<AcquireState?> s_acquire = new();

    private readonly KeyValuePair<string, object?> _storeTag = new(Attributes.Store, storeName);

    public string StoreName { get; } = storeName;

    /// <summary>Whether logs and traces name the lock key (metrics never do). On unless the app turned it off.</summary>
    public bool IncludeKeys { get; set; } = true;

    /// <summary>The attribute names, as documented.</summary>
    public static class Attributes
    {
        public const string Store = "locking.store";
        public const string Key = "locking.key";
        public const string Outcome = "locking.acquire.outcome";
        public const string Contended = "locking.acquire.contended";
        public const string FencingToken = "locking.fencing_token";
        public const string Lost = "locking.lease.lost";
        public const string ErrorType = "error.type";
    }

    /// <summary>The values of <see cref="Attributes.Outcome"/>.</summary>
    public static class Outcomes
    {
        public const string Acquired = "acquired";
        public const string Busy = "busy";
        public const string Cancelled = "cancelled";
        public const string Failed = "failed";
    }

    /// <summary>Starts the span of one acquire (when traced) and notes the acquire for its wait histogram (when measured).</summary>
    public Activity? StartAcquire(string key)
    {
        var activity = s_activities.HasListeners() ? s_activities.StartActivity("locking.acquire") : null;
        if (activity is not null)
        {
            activity.DisplayName = $"acquire lock ({StoreName})";
            activity.SetTag(Attributes.Store, StoreName);
            if (IncludeKeys)
            {
                activity.SetTag(Attributes.Key, key);
            }
        }

        s_acquire.Value = activity is not null || s_waitDuration.Enabled ? new AcquireState() : null;
        return activity;
    }

    public void Contended(string key)
    {
        s_contendedAcquires.Add(1, _storeTag);
        if (s_acquire.Value is { } acquire)
        {
            acquire.Contended = true;
        }
    }

    public void Acquired(ManagedLease lease, TimeSpan elapsed, Activity? activity)
    {
        Finish(Outcomes.Acquired, elapsed, activity, errorType: null);
        s_activeLeases.Add(1, _storeTag);
        activity?.SetTag(Attributes.FencingToken, lease.FencingToken);
        LogAcquired(KeyText(lease.Key), lease.FencingToken, elapsed.TotalMilliseconds);
    }

    public void NotAcquired(string key, TimeSpan waited, Activity? activity)
    {
        Finish(Outcomes.Busy, waited, activity, errorType: null);
        LogNotAcquired(KeyText(key), waited.TotalMilliseconds);
    }

    public void AcquireFailed(TimeSpan elapsed, Exception error, Activity? activity)
    {
        if (error is OperationCanceledException)
        {
            Finish(Outcomes.Cancelled, elapsed, activity, errorType: null);
            return;
        }

        var errorType = error.GetType().FullName;
        Finish(Outcomes.Failed, elapsed, activity, errorType);
        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
    }

    private void Finish(string outcome, TimeSpan elapsed, Activity? activity, string? errorType)
    {
        var outcomeTag = new KeyValuePair<string, object?>(Attributes.Outcome, outcome);
        if (errorType is null)
        {
            s_acquireDuration.Record(elapsed.TotalSeconds, _storeTag, outcomeTag);
        }
        else
        {
            s_acquireDuration.Record(elapsed.TotalSeconds, _storeTag, outcomeTag, new(Attributes.ErrorType, errorType));
        }

        var contended = s_acquire.Value?.Contended == true;
        if (contended)
        {
            s_waitDuration.Record(elapsed.TotalSeconds, _storeTag, outcomeTag);
        }

        if (activity is not null)
        {
            activity.SetTag(Attributes.Outcome, outcome);
            activity.SetTag(Attributes.Contended, contended);
            if (errorType is not null)
            {
                activity.SetTag(Attributes.ErrorType, errorType);
            }
        }
    }

    public void Renewed(ManagedLease lease) => LogRenewed(KeyText(lease.Key), lease.FencingToken);

    /// <summary>A renewal the store did not answer: retried until the validity runs out, so only a debug event.</summary>
    public void RenewFailed(ManagedLease lease, Exception error) => LogRenewFailed(error, KeyText(lease.Key), lease.FencingToken);

    /// <summary>The one warning of a lost lease: what it means for the holder; the store's errors were logged at Debug before.</summary>
    public void Lost(ManagedLease lease, Exception? cause)
    {
        s_lostLeases.Add(1, _storeTag);
        LogLost(KeyText(lease.Key), lease.FencingToken);
        if (cause is not null)
        {
            LogLostCause(cause, KeyText(lease.Key), lease.FencingToken);
        }
    }

    public void Released(ManagedLease lease)
    {
        s_activeLeases.Add(-1, _storeTag);
        if (s_holdDuration.Enabled)
        {
            s_holdDuration.Record(lease.HeldFor.TotalSeconds, _storeTag, new(Attributes.Lost, lease.IsLost));
        }

        LogReleased(KeyText(lease.Key), lease.FencingToken);
    }

    /// <summary>
    /// A release the store did not confirm. A lease already lost says nothing new (its loss was the warning); a held one
    /// gets one warning line, and the exception goes to Debug.
    /// </summary>
    public void ReleaseFailed(ManagedLease lease, Exception error)
    {
        if (lease.IsLost)
        {
            LogReleaseOfLostFailed(error, KeyText(lease.Key), lease.FencingToken);
            return;
        }

        ReleaseFailed(lease.Key, lease.FencingToken, error);
    }

    public void ReleaseFailed(string key, long fencingToken, Exception error)
    {
        LogReleaseFailed(KeyText(key), fencingToken, error.GetType().Name, FirstLine(error.Message));
        LogReleaseFailedDetail(error, KeyText(key), fencingToken);
    }

    public void LateGrant(ManagedLease lease) => LogLateGrant(KeyText(lease.Key), lease.FencingToken, lease.Ttl.TotalMilliseconds);

    private string KeyText(string key) => IncludeKeys ? key : HiddenKey;

    private static string FirstLine(string message)
    {
        var end = message.AsSpan().IndexOfAny('\r', '\n');
        return end < 0 ? message : message[..end];
    }

    private sealed class AcquireState
    {
        public bool Contended;
    }

    [LoggerMessage(1, LogLevel.Debug, "Acquired lock '{Key}' with fencing token {FencingToken} in {ElapsedMs:0.0} ms")]
    private partial void LogAcquired(string key, long fencingToken, double elapsedMs);

    [LoggerMessage(2, LogLevel.Debug, "Lock '{Key}' still busy after waiting {WaitedMs:0.0} ms")]
    private partial void LogNotAcquired(string key, double waitedMs);

    [LoggerMessage(3, LogLevel.Trace, "Renewed lock '{Key}' (fencing token {FencingToken})")]
    private partial void LogRenewed(string key, long fencingToken);

    [LoggerMessage(4, LogLevel.Debug, "Could not renew lock '{Key}' (fencing token {FencingToken}); retrying until its local validity runs out")]
    private partial void LogRenewFailed(Exception error, string key, long fencingToken);

    [LoggerMessage(5, LogLevel.Warning,
        "Lost lock '{Key}' (fencing token {FencingToken}) while it was held: no renewal was confirmed before its validity ran out, " +
        "or the store no longer had it. Its LostToken has fired: the holder must stop work that relies on the lock, since another owner may hold it now")]
    private partial void LogLost(string key, long fencingToken);

    [LoggerMessage(9, LogLevel.Debug, "Lock '{Key}' (fencing token {FencingToken}) was lost because of this error")]
    private partial void LogLostCause(Exception error, string key, long fencingToken);

    [LoggerMessage(6, LogLevel.Debug, "Released lock '{Key}' (fencing token {FencingToken})")]
    private partial void LogReleased(string key, long fencingToken);

    [LoggerMessage(7, LogLevel.Warning,
        "Could not release lock '{Key}' (fencing token {FencingToken}): {ErrorType}: {ErrorMessage}. It ends by its TTL; other owners wait for it until then")]
    private partial void LogReleaseFailed(string key, long fencingToken, string errorType, string errorMessage);

    [LoggerMessage(10, LogLevel.Debug, "The release of lock '{Key}' (fencing token {FencingToken}) failed with this error")]
    private partial void LogReleaseFailedDetail(Exception error, string key, long fencingToken);

    [LoggerMessage(11, LogLevel.Debug, "Could not release lock '{Key}' (fencing token {FencingToken}), which was already lost")]
    private partial void LogReleaseOfLostFailed(Exception error, string key, long fencingToken);

    [LoggerMessage(8, LogLevel.Warning, "The grant of lock '{Key}' (fencing token {FencingToken}) came back later than its {TtlMs} ms TTL allows; gave it back and asking again")]
    private partial void LogLateGrant(string key, long fencingToken, double ttlMs);
}
