using System.Globalization;
using System.Text;
using Locking.FaultTests.Histories;

namespace Locking.FaultTests.Checking;

/// <summary>Two holds the library believed valid at the same time.</summary>
public sealed record Overlap(Grant First, Grant Second);

/// <summary>What the checker found in one scenario's histories; <see cref="ToString"/> prints the figures.</summary>
public sealed class ScenarioReport
{
    public required string Scenario { get; init; }

    /// <summary>The first event's timestamp: times in the report are counted from it.</summary>
    public required long Origin { get; init; }

    public required IReadOnlyList<Grant> Grants { get; init; }

    public required IReadOnlyList<HistoryEvent> Faults { get; init; }

    public required IReadOnlyList<LeakedKey> LeakedKeys { get; init; }

    /// <summary>Every event of the scenario, in time order.</summary>
    public required IReadOnlyList<HistoryEvent> Events { get; init; }

    /// <summary>Store requests (Redis scripts) or lock grain calls (Orleans) per grant: one figure per store.</summary>
    public required StoreLoad StoreLoad { get; init; }

    public required int Busy { get; init; }

    public required int Cancelled { get; init; }

    public required int Unavailable { get; init; }

    public required double LongestReleaseMs { get; init; }

    public int WritesAccepted { get; set; }

    public int StaleWritesRejected { get; set; }

    public List<string> StaleWritesAccepted { get; } = [];

    public List<Overlap> Overlaps { get; } = [];

    public List<string> FencingOrderViolations { get; } = [];

    /// <summary>Events of two processes in an order their causality forbids: the processes do not share one clock.</summary>
    public List<string> ClockInconsistencies { get; } = [];

    public List<(string Fault, double? NextGrantMs)> UnusableAfterFault { get; } = [];

    public double LongestGapBetweenGrantsMs { get; set; }

    public int LeasesLost => Grants.Count(g => g.SeenLost);

    /// <summary>The longest time from a fault to the next grant; infinite when a fault was followed by none.</summary>
    public double LongestUnusableMs => UnusableAfterFault.Count == 0 ? 0 : UnusableAfterFault.Max(u => u.NextGrantMs ?? double.PositiveInfinity);

    private string At(long timestamp) => Checker.Milliseconds(timestamp - Origin).ToString("0.0", CultureInfo.InvariantCulture) + " ms";

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"scenario: {Scenario}");
        Line("grants", Grants.Count);
        Line("writes accepted", WritesAccepted);
        Line("stale writes rejected by fencing", StaleWritesRejected);
        Line("stale writes accepted", StaleWritesAccepted.Count);
        Line("overlapping holds believed valid", Overlaps.Count);
        Line("fencing order violations", FencingOrderViolations.Count);
        Line("leases reported lost", LeasesLost);
        Line("longest unusable after a fault", UnusableAfterFault.Count == 0 ? "-" : Ms(LongestUnusableMs));
        Line("longest gap between grants", Ms(LongestGapBetweenGrantsMs));
        Line("leaked keys at the end", LeakedKeys.Count);
        Line("store requests per grant", StoreLoad.Text);
        Line("busy / cancelled / unavailable", $"{Busy} / {Cancelled} / {Unavailable}");
        Line("longest release call", Ms(LongestReleaseMs));
        foreach (var (fault, next) in UnusableAfterFault)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  fault '{fault}': next grant after {(next is { } ms ? Ms(ms) : "none")}");
        }

        Examples("overlap", Overlaps.Select(o =>
            $"{o.First} held {At(o.First.GrantedAt)}..{At(o.First.BelievedValidUntil)} (last said held {At(o.First.LastAffirmedAt)}, " +
            $"loss seen {(o.First.LossObservedAt is { } lost ? At(lost) : "never")}) and {o.Second} held {At(o.Second.GrantedAt)}..{At(o.Second.BelievedValidUntil)} " +
            $"(requested {At(o.Second.RequestedAt)})"));
        foreach (var overlap in Overlaps.Take(2))
        {
            // The evidence: both holders' own events from just before the second grant to the first's last "held".
            text.AppendLine(CultureInfo.InvariantCulture, $"  events of the overlap {overlap.First} / {overlap.Second}:");
            var from = overlap.Second.GrantedAt - Ticks(20);
            var to = overlap.First.BelievedValidUntil + Ticks(5);
            foreach (var e in Events.Where(e => e.Timestamp >= from && e.Timestamp <= to && e.Kind != EventKind.Write
                && (e.Process == overlap.First.Worker || e.Process == overlap.Second.Worker)).Take(30))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    {At(e.Timestamp)} {e}");
            }
        }
        Examples("stale write accepted", StaleWritesAccepted);
        Examples("fencing order", FencingOrderViolations);
        Examples("clock", ClockInconsistencies);
        foreach (var leaked in LeakedKeys.Take(5))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  leaked: {leaked.Description}{(leaked.SetAt is { } set ? $", set at about {At(set)}; events around then:" : "")}");
            if (leaked.SetAt is { } setAt)
            {
                Context(setAt, 25);
            }
        }
        return text.ToString();

        void Line(string name, object value) => text.AppendLine(CultureInfo.InvariantCulture, $"  {name,-36} {value}");

        void Context(long at, double windowMs)
        {
            var window = Ticks(windowMs);
            foreach (var e in Events.Where(e => Math.Abs(e.Timestamp - at) <= window))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    {At(e.Timestamp)} {e}");
            }
        }

        void Examples(string what, IEnumerable<string> items)
        {
            foreach (var item in items.Take(10))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {what}: {item}");
            }
        }
    }

    private static long Ticks(double ms) => (long)(ms * System.Diagnostics.Stopwatch.Frequency / 1000);

    private static string Ms(double ms) => double.IsInfinity(ms) ? "never" : ms.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
