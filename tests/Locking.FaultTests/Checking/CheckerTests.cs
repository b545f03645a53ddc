using System.Diagnostics;
using Locking.FaultTests.Histories;
using Locking.FaultTests.Resource;

namespace Locking.FaultTests.Checking;

/// <summary>
/// The checker on histories written by hand: it must find each kind of violation it reports, and none in a clean
/// handoff, or the scenarios prove nothing.
/// </summary>
public sealed class CheckerTests
{
    private const string Key = "k";
    private static readonly long Ms = Stopwatch.Frequency / 1000;

    [Fact]
    public void A_clean_handoff_has_no_violation()
    {
        var history = new List<HistoryEvent>();
        history.AddRange(Hold("w1", grant: 1, token: 10, requested: 0, granted: 1, affirmed: [5], release: 10));
        history.AddRange(Hold("w2", grant: 1, token: 11, requested: 2, granted: 11, affirmed: [15], release: 20));
        var report = Check(history, Accepted("w1", 1, 10), Accepted("w2", 1, 11));

        Assert.Empty(report.Overlaps);
        Assert.Empty(report.StaleWritesAccepted);
        Assert.Empty(report.FencingOrderViolations);
        Assert.Equal(2, report.WritesAccepted);
    }

    [Fact]
    public void A_holder_told_held_after_another_was_granted_is_an_overlap()
    {
        var history = new List<HistoryEvent>();
        history.AddRange(Hold("w1", grant: 1, token: 10, requested: 0, granted: 1, affirmed: [5, 30], release: 31));
        history.AddRange(Hold("w2", grant: 1, token: 11, requested: 2, granted: 20, affirmed: [25], release: 40));
        var report = Check(history);

        var overlap = Assert.Single(report.Overlaps);
        Assert.Equal(("w1", "w2"), (overlap.First.Worker, overlap.Second.Worker));
    }

    [Fact]
    public void A_lease_is_believed_valid_until_its_local_validity_end_even_when_its_holder_never_asks()
    {
        // w1 was granted a 1 s lease and died (no release, no loss seen): the library promised it until about 980 ms.
        var history = new List<HistoryEvent>();
        history.AddRange(Hold("w1", grant: 1, token: 10, requested: 0, granted: 1, affirmed: [], release: null));
        history.AddRange(Hold("w2", grant: 1, token: 11, requested: 2, granted: 900, affirmed: [], release: 950));
        history.AddRange(Hold("w3", grant: 1, token: 12, requested: 3, granted: 1000, affirmed: [], release: 1010));
        var report = Check(history);

        var overlap = Assert.Single(report.Overlaps);
        Assert.Equal(("w1", "w2"), (overlap.First.Worker, overlap.Second.Worker));
    }

    [Fact]
    public void A_loss_seen_ends_the_hold()
    {
        var history = new List<HistoryEvent>();
        history.AddRange(Hold("w1", grant: 1, token: 10, requested: 0, granted: 1, affirmed: [5], release: null));
        history.Add(new HistoryEvent(At(6), "w1", EventKind.Lost, Key, 1, 10, ""));
        history.AddRange(Hold("w2", grant: 1, token: 11, requested: 2, granted: 20, affirmed: [25], release: 40));
        var report = Check(history);

        Assert.Empty(report.Overlaps);
        Assert.Equal(1, report.LeasesLost);
    }

    [Fact]
    public void A_write_of_a_holder_whose_successor_already_wrote_is_a_stale_write_accepted()
    {
        // Equal tokens get past the resource's rule: the checker must still see the stale write.
        var history = new List<HistoryEvent>();
        history.AddRange(Hold("w1", grant: 1, token: 10, requested: 0, granted: 1, affirmed: [5], release: 50));
        history.AddRange(Hold("w2", grant: 1, token: 10, requested: 10, granted: 20, affirmed: [25], release: 40));
        var report = Check(history, Accepted("w1", 1, 10), Accepted("w2", 1, 10), Accepted("w1", 1, 10, sequence: 2));

        var stale = Assert.Single(report.StaleWritesAccepted);
        Assert.StartsWith("w1#1", stale, StringComparison.Ordinal);
        Assert.NotEmpty(report.FencingOrderViolations);
    }

    [Fact]
    public void Refused_writes_are_counted_as_stale_writes_rejected()
    {
        var history = new List<HistoryEvent>();
        history.AddRange(Hold("w1", grant: 1, token: 10, requested: 0, granted: 1, affirmed: [5], release: 50));
        history.AddRange(Hold("w2", grant: 1, token: 11, requested: 10, granted: 20, affirmed: [25], release: 40));
        var report = Check(history, Accepted("w1", 1, 10), Accepted("w2", 1, 11), new ResourceWrite(Key, false, 10, "w1", 1, 2, 11));

        Assert.Equal(1, report.StaleWritesRejected);
        Assert.Empty(report.StaleWritesAccepted);
    }

    [Fact]
    public void A_later_grant_with_a_lower_token_breaks_the_fencing_order()
    {
        var history = new List<HistoryEvent>();
        history.AddRange(Hold("w1", grant: 1, token: 10, requested: 0, granted: 1, affirmed: [], release: 5));
        history.AddRange(Hold("w2", grant: 1, token: 9, requested: 6, granted: 7, affirmed: [], release: 8));
        var report = Check(history);

        Assert.Single(report.FencingOrderViolations);
    }

    [Fact]
    public void A_fault_logged_before_the_armed_holder_it_answered_shows_an_unshared_clock()
    {
        var history = new List<HistoryEvent>();
        history.AddRange(Hold("w1", grant: 1, token: 10, requested: 0, granted: 1, affirmed: [], release: 5));
        history.Add(new HistoryEvent(At(3), "w1", EventKind.Armed, Key, 1, 10, ""));
        history.Add(new HistoryEvent(At(2), "nemesis", EventKind.Fault, "-", 0, 0, "pause w1 holding token 10"));
        var report = Check(history);

        Assert.Single(report.ClockInconsistencies);
    }

    private static long At(double ms) => (long)(ms * Ms);

    private static IEnumerable<HistoryEvent> Hold(string worker, int grant, long token, double requested, double granted, double[] affirmed, double? release)
    {
        yield return new HistoryEvent(At(requested), worker, EventKind.Acquire, Key, 0, 0, "");
        yield return new HistoryEvent(At(granted), worker, EventKind.Granted, Key, grant, token, "ttl=1000");
        foreach (var at in affirmed)
        {
            yield return new HistoryEvent(At(at), worker, EventKind.Held, Key, grant, token, "");
        }

        if (release is { } released)
        {
            yield return new HistoryEvent(At(released), worker, EventKind.Release, Key, grant, token, "held");
        }
    }

    private static ResourceWrite Accepted(string writer, int grant, long token, int sequence = 1) => new(Key, true, token, writer, grant, sequence, 0);

    private static ScenarioReport Check(IReadOnlyList<HistoryEvent> history, params ResourceWrite[] writes)
        => Checker.Check("test", 0, history, new Dictionary<string, IReadOnlyList<ResourceWrite>> { [Key] = writes }, [], new StoreLoad("-", []));
}
