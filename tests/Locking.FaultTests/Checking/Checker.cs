using System.Diagnostics;
using System.Globalization;
using Locking.FaultTests.Histories;
using Locking.FaultTests.Resource;

namespace Locking.FaultTests.Checking;

/// <summary>
/// Reads the merged histories of a scenario and the resource's own log, and works out what happened: grants, holds
/// the library believed valid at the same time, writes the resource accepted from a stale holder, fencing tokens out
/// of order, and how long the key stayed unusable after each fault.
/// </summary>
public static class Checker
{
    public static ScenarioReport Check(
        string scenario,
        long origin,
        IReadOnlyList<HistoryEvent> history,
        IReadOnlyDictionary<string, IReadOnlyList<ResourceWrite>> resource,
        IReadOnlyList<LeakedKey> leakedKeys,
        StoreLoad storeLoad)
    {
        var events = history.OrderBy(e => e.Timestamp).ToArray();
        var grants = ReadGrants(events);
        var report = new ScenarioReport
        {
            Scenario = scenario,
            Origin = origin,
            Events = events,
            Grants = grants.Values.ToArray(),
            LeakedKeys = leakedKeys,
            StoreLoad = storeLoad,
            Busy = events.Count(e => e.Kind == EventKind.Busy),
            Cancelled = events.Count(e => e.Kind == EventKind.Cancelled),
            Unavailable = events.Count(e => e.Kind == EventKind.Unavailable),
            LongestReleaseMs = events.Where(e => e.Kind == EventKind.Released)
                .Select(e => double.Parse(e.Detail, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max(),
            Faults = events.Where(e => e.Kind == EventKind.Fault).ToArray(),
        };

        foreach (var perKey in grants.Values.GroupBy(g => g.Key))
        {
            FindOverlaps([.. perKey], report);
            FindFencingOrderViolations([.. perKey], report);
        }

        foreach (var (key, writes) in resource)
        {
            CheckWrites(writes, grants, report);
        }

        MeasureUnusable(report);
        CheckClock(events, report);
        return report;
    }

    /// <summary>
    /// The merge rests on one clock shared by every process. The nemesis strikes only after a worker said it was
    /// armed, so each fault naming a holder's token must be logged after that holder's "armed": a machine whose
    /// processes do not share a monotonic clock shows here, before any other figure is trusted.
    /// </summary>
    private static void CheckClock(HistoryEvent[] events, ScenarioReport report)
    {
        var armedAt = events.Where(e => e.Kind == EventKind.Armed).GroupBy(e => e.Token).ToDictionary(g => g.Key, g => g.Min(e => e.Timestamp));
        foreach (var fault in report.Faults)
        {
            var match = System.Text.RegularExpressions.Regex.Match(fault.Detail, @"token (\d+)");
            if (match.Success && armedAt.TryGetValue(long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), out var armed) && armed >= fault.Timestamp)
            {
                report.ClockInconsistencies.Add($"fault '{fault.Detail}' is logged {Milliseconds(armed - fault.Timestamp):0.000} ms before the holder said it was armed");
            }
        }
    }

    private static Dictionary<(string Worker, int Number), Grant> ReadGrants(HistoryEvent[] events)
    {
        var grants = new Dictionary<(string, int), Grant>();
        var lastRequest = new Dictionary<string, long>();
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case EventKind.Acquire:
                    lastRequest[e.Process] = e.Timestamp;
                    break;
                case EventKind.Granted:
                    grants[(e.Process, e.Grant)] = new Grant
                    {
                        Worker = e.Process,
                        Key = e.Key,
                        Number = e.Grant,
                        Token = e.Token,
                        Ttl = TimeSpan.FromMilliseconds(double.Parse(e.Detail["ttl=".Length..], CultureInfo.InvariantCulture)),
                        RequestedAt = lastRequest[e.Process],
                        GrantedAt = e.Timestamp,
                        LastAffirmedAt = e.Timestamp,
                    };
                    break;
                case EventKind.Held:
                    Affirm(grants[(e.Process, e.Grant)], e.Timestamp);
                    break;
                case EventKind.Gone:
                    grants[(e.Process, e.Grant)].ObserveLoss(e.Timestamp);
                    break;
                case EventKind.Lost:
                    var lost = grants[(e.Process, e.Grant)];
                    lost.ObserveLoss(e.Timestamp);
                    lost.LostAt ??= e.Timestamp;
                    break;
                case EventKind.Release:
                    var released = grants[(e.Process, e.Grant)];
                    released.ReleaseAt = e.Timestamp;
                    if (e.Detail == "held")
                    {
                        Affirm(released, e.Timestamp);
                    }
                    else
                    {
                        released.ObserveLoss(e.Timestamp);
                    }

                    break;
            }
        }

        return grants;
    }

    private static void Affirm(Grant grant, long at) => grant.LastAffirmedAt = Math.Max(grant.LastAffirmedAt, at);

    /// <summary>
    /// Two holds overlap when one was granted strictly before the other's hold ended: at that instant the library
    /// believed both valid. Grant times are read after the acquire returned, affirmations before IsLost was asked, and
    /// the validity end is counted from a request time no later than the library's, so no overlap comes from the
    /// reading of the clock.
    /// </summary>
    private static void FindOverlaps(Grant[] grants, ScenarioReport report)
    {
        Array.Sort(grants, (a, b) => a.GrantedAt.CompareTo(b.GrantedAt));
        for (var i = 0; i < grants.Length; i++)
        {
            for (var j = i + 1; j < grants.Length && grants[j].GrantedAt < grants[i].BelievedValidUntil; j++)
            {
                report.Overlaps.Add(new Overlap(grants[i], grants[j]));
            }
        }
    }

    /// <summary>
    /// Tokens must be strictly increasing per key across holders: a grant whose acquire was sent after another grant
    /// had returned must carry a higher token; and no two grants share a token.
    /// </summary>
    private static void FindFencingOrderViolations(Grant[] grants, ScenarioReport report)
    {
        var byRequest = grants.OrderBy(g => g.RequestedAt).ToArray();
        var byGrant = grants.OrderBy(g => g.GrantedAt).ToArray();
        Grant? highestBefore = null;
        var next = 0;
        foreach (var later in byRequest)
        {
            while (next < byGrant.Length && byGrant[next].GrantedAt < later.RequestedAt)
            {
                if (highestBefore is null || byGrant[next].Token > highestBefore.Token)
                {
                    highestBefore = byGrant[next];
                }

                next++;
            }

            if (highestBefore is not null && later.Token <= highestBefore.Token)
            {
                report.FencingOrderViolations.Add($"{later} was asked for after {highestBefore} had been granted, but its token is not higher");
            }
        }

        foreach (var shared in grants.GroupBy(g => g.Token).Where(g => g.Count() > 1))
        {
            report.FencingOrderViolations.Add($"token {shared.Key} was granted {shared.Count()} times: {string.Join(", ", shared)}");
        }
    }

    /// <summary>
    /// A stale write is one from a holder whose successor has already written: the resource must refuse it. A
    /// successor is a grant asked for after this one was granted, or any other grant that wrote in between two
    /// writes of this one (an interleaving). Every refused write is stale by the resource's rule.
    /// </summary>
    private static void CheckWrites(IReadOnlyList<ResourceWrite> writes, Dictionary<(string, int), Grant> grants, ScenarioReport report)
    {
        long latestWriterRequest = long.MinValue;
        Grant? lastWriter = null;
        var wrote = new HashSet<Grant>();
        foreach (var write in writes)
        {
            if (!grants.TryGetValue((write.Writer, write.Grant), out var grant))
            {
                throw new InvalidOperationException($"The resource saw a write of {write.Writer}#{write.Grant}, which no history granted.");
            }

            if (!write.Accepted)
            {
                report.StaleWritesRejected++;
                continue;
            }

            report.WritesAccepted++;
            if (latestWriterRequest > grant.GrantedAt)
            {
                report.StaleWritesAccepted.Add($"{grant} wrote (seq {write.Sequence}) after a grant asked for later than it had written");
            }
            else if (lastWriter is not null && lastWriter != grant && wrote.Contains(grant))
            {
                report.StaleWritesAccepted.Add($"{grant} wrote (seq {write.Sequence}) again after {lastWriter} had written");
            }

            latestWriterRequest = Math.Max(latestWriterRequest, grant.RequestedAt);
            lastWriter = grant;
            wrote.Add(grant);
        }
    }

    /// <summary>For each fault, how long until the next grant of any worker.</summary>
    private static void MeasureUnusable(ScenarioReport report)
    {
        var grantTimes = report.Grants.Select(g => g.GrantedAt).Order().ToArray();
        foreach (var fault in report.Faults)
        {
            var index = Array.BinarySearch(grantTimes, fault.Timestamp);
            index = index < 0 ? ~index : index + 1;
            report.UnusableAfterFault.Add((fault.Detail, index < grantTimes.Length ? Milliseconds(grantTimes[index] - fault.Timestamp) : null));
        }

        for (var i = 1; i < grantTimes.Length; i++)
        {
            report.LongestGapBetweenGrantsMs = Math.Max(report.LongestGapBetweenGrantsMs, Milliseconds(grantTimes[i] - grantTimes[i - 1]));
        }
    }

    public static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
