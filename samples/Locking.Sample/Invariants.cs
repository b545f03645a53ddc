namespace Locking.Sample;

/// <summary>The invariants the scenarios checked; the process exits 0 only when every one held.</summary>
public sealed class Invariants
{
    private readonly List<(string Scenario, string Claim, bool Held, string Evidence)> _results = [];

    public bool AllHeld => _results.Count > 0 && _results.TrueForAll(r => r.Held);

    public void Check(string scenario, string claim, bool held, string evidence) => _results.Add((scenario, claim, held, evidence));

    public void Print(Timeline timeline)
    {
        timeline.Section("Summary");
        foreach (var (scenario, claim, held, evidence) in _results)
        {
            timeline.Line($"  {(held ? "✔" : "✘")} {scenario,-13} {claim} — {evidence}");
        }

        var failed = _results.Count(r => !r.Held);
        timeline.Line();
        timeline.Line(failed == 0
            ? $"All {_results.Count} invariants held."
            : $"{failed} of {_results.Count} invariants did NOT hold.");
    }
}
