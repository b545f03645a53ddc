using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Locking.LoadTest;

/// <summary>Prints results: a row as each run ends, the RESULT lines, the summary table and the goals.</summary>
internal static class Report
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    public static string Machine()
    {
        var cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?
                .Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }

        return $"{Environment.ProcessorCount} cores ({cpu}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, " +
               $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC";
    }

    /// <summary>The machine-readable line: one per case and library.</summary>
    public static string ResultLine(CaseResult result) => string.Create(s_invariant,
        $"RESULT case={result.Case} lib={result.Library} ops_per_s={result.OperationsPerSecond:0} " +
        $"p50_us={result.Latency.Percentile(0.50)} p99_us={result.Latency.Percentile(0.99)} max_us={result.Latency.MaxMicroseconds} " +
        $"alloc_b_per_op={result.AllocatedPerOperation:0} handoffs_per_s={result.HandoffsPerSecond:0}");

    /// <summary>What a result says beyond its numbers: failures, waits given up, commands, per-contender counts.</summary>
    public static IEnumerable<string> Details(CaseResult result)
    {
        if (result.CommandsPerOperation is { } commands)
        {
            yield return string.Create(s_invariant, $"{commands:0.##} commands per pair");
        }

        if (result.Operations > 0 && result.Hold is null && result.ClientCpu > TimeSpan.Zero)
        {
            yield return string.Create(s_invariant,
                $"CPU per op: client {result.ClientCpu.TotalMicroseconds / result.Operations:0.0} µs, redis-server {result.ServerCpu.TotalMicroseconds / result.Operations:0.0} µs; GCs gen0/1/2 {result.Collections}; heap after {result.HeapBytesAfter / 1048576.0:0.0} MB");
        }

        foreach (var note in result.Notes)
        {
            yield return note;
        }

        if (result.AllocationSampler is { } sampler && result.Operations > 0)
        {
            yield return "allocations by type (sampled):";
            foreach (var line in sampler.Top(result.Operations, 15))
            {
                yield return "  " + line;
            }
        }

        if (result.NotAcquired > 0)
        {
            yield return $"{result.NotAcquired} acquisitions gave up";
        }

        if (result.ExclusionViolations > 0)
        {
            yield return $"EXCLUSION VIOLATED {result.ExclusionViolations} times";
        }

        if (result.Errors > 0)
        {
            yield return $"{result.Errors} errors, first: {result.FirstError}";
        }
    }

    private static string Ratio(CaseResult result, IReadOnlyCollection<CaseResult> all)
    {
        var floor = all.FirstOrDefault(other => other.Case == result.Case && other.Library == "floor");
        return floor is { OperationsPerSecond: > 0 } && result.Hold is null
            ? string.Create(s_invariant, $"{result.OperationsPerSecond / floor.OperationsPerSecond:0.00}x")
            : "";
    }

    private static string[] Row(CaseResult result, IReadOnlyCollection<CaseResult> all) =>
    [
        result.Case,
        result.Library,
        result.OperationsPerSecond.ToString("N0", s_invariant),
        Ratio(result, all),
        result.Latency.Percentile(0.50).ToString("N0", s_invariant),
        result.Latency.Percentile(0.99).ToString("N0", s_invariant),
        result.Latency.MaxMicroseconds.ToString("N0", s_invariant),
        result.AllocatedPerOperation.ToString("N0", s_invariant),
        result.Case.StartsWith("handoff", StringComparison.Ordinal) ? result.HandoffsPerSecond.ToString("N0", s_invariant) : "",
        result.CommandsPerOperation is { } commands ? commands.ToString("0.##", s_invariant) : "",
    ];

    private static readonly string[] s_header = ["case", "library", "ops/s", "vs floor", "p50 µs", "p99 µs", "max µs", "B/op", "handoffs/s", "cmds/op"];

    public static void PrintTable(TextWriter output, IReadOnlyCollection<CaseResult> results)
    {
        var rows = results.Select(result => Row(result, results)).Prepend(s_header).ToList();
        var widths = Enumerable.Range(0, s_header.Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
        foreach (var (row, index) in rows.Select((row, index) => (row, index)))
        {
            output.WriteLine(string.Join("  ", row.Select((cell, column) => column < 2 ? cell.PadRight(widths[column]) : cell.PadLeft(widths[column]))));
            if (index == 0)
            {
                output.WriteLine(string.Join("  ", widths.Select(width => new string('-', width))));
            }
        }
    }

    public static void PrintMarkdown(TextWriter output, IReadOnlyCollection<CaseResult> results)
    {
        output.WriteLine("| " + string.Join(" | ", s_header) + " |");
        output.WriteLine("|" + string.Join("|", s_header.Select((_, column) => column < 2 ? "---" : "---:")) + "|");
        foreach (var result in results)
        {
            output.WriteLine("| " + string.Join(" | ", Row(result, results)) + " |");
        }
    }

    /// <summary>One verdict of a goal.</summary>
    public sealed record Verdict(string Goal, string Measured, bool? Met);

    /// <summary>Locking's goals, as ratios against the floor and the peers measured in the same run.</summary>
    /// <param name="results">The result that stands for each case and library.</param>
    /// <param name="everyRun">Every run of every round: a ratio to the floor is taken within a round, where both
    /// saw the same machine, and the median of the rounds' ratios is what the goal is judged on.</param>
    public static List<Verdict> Goals(IReadOnlyCollection<CaseResult> results, IReadOnlyCollection<CaseResult> everyRun)
    {
        var verdicts = new List<Verdict>();
        CaseResult? Find(string caseName, string library) => results.FirstOrDefault(r => r.Case == caseName && r.Library == library);
        string Per(double value) => value.ToString("N0", s_invariant);

        void Throughput(string caseName, double goal)
        {
            var locking = Find(caseName, "locking");
            var floor = Find(caseName, "floor");
            if (locking is null || floor is null || floor.OperationsPerSecond == 0)
            {
                return;
            }

            var ratios = RoundRatios(caseName, "locking");
            var ratio = Median(ratios);
            var peers = string.Join(", ", results.Where(r => r.Case == caseName && r.Library is not ("locking" or "floor"))
                .Select(r => string.Create(s_invariant, $"{r.Library} {Median(RoundRatios(caseName, r.Library)):0.00}x")));
            verdicts.Add(new Verdict(
                string.Create(s_invariant, $"{caseName}: ops/s >= {goal:0.00}x floor"),
                string.Create(s_invariant, $"median of the rounds' ratios {ratio:0.00}x (rounds: {string.Join(", ", ratios.Select(r => r.ToString("0.00", s_invariant)))})") +
                (peers.Length > 0 ? $" (peers: {peers})" : ""),
                ratio >= goal));

            // CPU per pair (client + server) is steadier than rates on a loaded machine: said beside the verdict.
            var cpuRatios = everyRun.Where(r => r.Case == caseName && r.Library == "locking" && r.Operations > 0)
                .Select(r => (Run: r, Floor: everyRun.FirstOrDefault(f => f.Case == caseName && f.Library == "floor" && f.Round == r.Round)))
                .Where(pair => pair.Floor is { Operations: > 0 } && pair.Floor.ClientCpu + pair.Floor.ServerCpu > TimeSpan.Zero)
                .Select(pair => ((pair.Run.ClientCpu + pair.Run.ServerCpu) / pair.Run.Operations) / ((pair.Floor!.ClientCpu + pair.Floor.ServerCpu) / pair.Floor.Operations))
                .ToList();
            if (cpuRatios.Count > 0)
            {
                verdicts.Add(new Verdict(
                    $"{caseName}: CPU per pair (client + redis-server) against the floor",
                    string.Create(s_invariant, $"median {Median(cpuRatios):0.00}x (rounds: {string.Join(", ", cpuRatios.Select(r => r.ToString("0.00", s_invariant)))})"),
                    null));
            }
        }

        List<double> RoundRatios(string caseName, string library) =>
            everyRun.Where(r => r.Case == caseName && r.Library == library)
                .Select(r => (Run: r, Floor: everyRun.FirstOrDefault(f => f.Case == caseName && f.Library == "floor" && f.Round == r.Round)))
                .Where(pair => pair.Floor is { OperationsPerSecond: > 0 })
                .Select(pair => pair.Run.OperationsPerSecond / pair.Floor!.OperationsPerSecond)
                .ToList();

        static double Median(List<double> values)
        {
            if (values.Count == 0)
            {
                return 0;
            }

            var sorted = values.Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        }

        Throughput("uncontended", 0.95);
        Throughput("parallel", 0.90);

        if (Find("uncontended", "locking") is { CommandsPerOperation: { } commands })
        {
            verdicts.Add(new Verdict("uncontended: at most 2 round trips per pair", string.Create(s_invariant, $"{commands:0.##} commands per pair"), commands <= 2.0));
        }

        foreach (var caseName in new[] { "uncontended", "parallel" })
        {
            if (Find(caseName, "locking") is { Operations: > 0 } locking)
            {
                var peers = string.Join(", ", results.Where(r => r.Case == caseName && r.Library != "locking")
                    .Select(r => $"{r.Library} {Per(r.AllocatedPerOperation)} B"));
                verdicts.Add(new Verdict(
                    $"{caseName}: allocated <= 1,536 B per pair",
                    $"{Per(locking.AllocatedPerOperation)} B" + (peers.Length > 0 ? $" (others: {peers})" : ""),
                    locking.AllocatedPerOperation <= 1536));
            }
        }

        foreach (var caseName in new[] { "handoff", "handoff-conns" })
        {
            if (Find(caseName, "locking") is not { } locking)
            {
                continue;
            }

            verdicts.Add(new Verdict($"{caseName}: >= 5,000 handoffs/s between distinct holders", $"{Per(locking.HandoffsPerSecond)}/s", locking.HandoffsPerSecond >= 5000));
            verdicts.Add(new Verdict($"{caseName}: worst wait < 50 ms", string.Create(s_invariant, $"{locking.Latency.MaxMicroseconds / 1000.0:0.0} ms"), locking.Latency.MaxMicroseconds < 50_000));
            var counts = locking.PerContender ?? [];
            verdicts.Add(new Verdict(
                $"{caseName}: no contender starved",
                $"min {(counts.Length > 0 ? counts.Min() : 0)}, max {(counts.Length > 0 ? counts.Max() : 0)} acquisitions per contender, {locking.NotAcquired} gave up",
                !locking.Starved && locking.NotAcquired == 0));
        }

        if (Find("hold", "locking") is { Hold: { } hold })
        {
            verdicts.Add(new Verdict(
                $"hold: none of {hold.Leases:N0} leases lost",
                string.Create(s_invariant, $"{hold.Lost} lost; client CPU {hold.ProcessCpuPercent:0.0} % of a core, {hold.ManagedBytesPerLease} B managed per lease"),
                hold.Lost == 0));
        }

        foreach (var result in results.Where(r => r.Library == "locking"))
        {
            if (result.ExclusionViolations > 0 || result.Errors > 0 || result.Hung)
            {
                verdicts.Add(new Verdict($"{result.Case}: runs clean", $"{result.ExclusionViolations} exclusion violations, {result.Errors} errors{(result.Hung ? ", hung" : "")}", false));
            }
        }

        return verdicts;
    }

    public static void PrintGoals(TextWriter output, IEnumerable<Verdict> verdicts)
    {
        foreach (var verdict in verdicts)
        {
            var mark = verdict.Met switch { true => "MET   ", false => "MISSED", null => "      " };
            output.WriteLine($"GOAL {mark} {verdict.Goal}: {verdict.Measured}");
        }
    }

    public static string CommandLine(string[] args)
    {
        var text = new StringBuilder("dotnet run -c Release --project bench/Locking.LoadTest --");
        foreach (var arg in args)
        {
            text.Append(' ').Append(arg);
        }

        return text.ToString();
    }
}
