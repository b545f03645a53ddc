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

        if (result.ServerAtStart is { } server && result.Case.EndsWith("crowd", StringComparison.Ordinal))
        {
            yield return $"server as the window opened: {server.ConnectedClients} clients connected, {server.PubsubChannels} pub/sub channels and {server.PubsubShardChannels} shard channels subscribed";
        }

        if (result.ServerCommands is { Count: > 0 } commandStats && result.Operations > 0)
        {
            yield return "server time per op (INFO commandstats; a script's time includes the commands it runs): " + CommandStats(commandStats, result.Operations);
        }

        if (result.PerContender is { Length: > 0 } counts)
        {
            yield return string.Create(s_invariant, $"acquisitions per contender: {string.Join(" ", counts)} (spread {Spread(counts):0.0} %)");
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

    /// <summary>Each command's calls and server µs per op, the costliest first: "evalsha 2.00 x 10.6 µs = 21.2 µs".</summary>
    public static string CommandStats(IReadOnlyDictionary<string, Measurement.CommandStat> commands, long operations) =>
        string.Join(", ", commands.OrderByDescending(entry => entry.Value.Microseconds).Take(12).Select(entry => string.Create(s_invariant,
            $"{entry.Key} {(double)entry.Value.Calls / operations:0.00} x {entry.Value.MicrosecondsPerCall:0.00} µs = {(double)entry.Value.Microseconds / operations:0.00} µs")));

    /// <summary>How far apart the contenders' acquisition counts are: (max - min) / min, in percent.</summary>
    public static double Spread(long[] counts) => counts.Length == 0 ? 0 : counts.Min() == 0 ? double.PositiveInfinity : (counts.Max() - counts.Min()) * 100.0 / counts.Min();

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

    /// <summary>Locking's goals, as ratios against the floor, the peers and the other cases measured in the same run.</summary>
    /// <param name="results">The result that stands for each case and library.</param>
    /// <param name="everyRun">Every run of every round: a ratio is taken within a round, where both runs saw the same
    /// machine, and the median of the rounds' ratios is what the goal is judged on.</param>
    public static List<Verdict> Goals(IReadOnlyCollection<CaseResult> results, IReadOnlyCollection<CaseResult> everyRun)
    {
        var verdicts = new List<Verdict>();
        CaseResult? Find(string caseName, string library) => results.FirstOrDefault(r => r.Case == caseName && r.Library == library);
        string Per(double value) => value.ToString("N0", s_invariant);
        string List(IEnumerable<double> values, string format = "0.00") => string.Join(", ", values.Select(v => v.ToString(format, s_invariant)));

        // The ratios of one run's figure to another's in the same round, one per round in which both ran.
        List<double> RoundRatios(string caseName, string library, string baseCase, string baseLibrary, Func<CaseResult, double> figure) =>
            everyRun.Where(r => r.Case == caseName && r.Library == library)
                .Select(r => (Run: r, Base: everyRun.FirstOrDefault(b => b.Case == baseCase && b.Library == baseLibrary && b.Round == r.Round)))
                .Where(pair => pair.Base is not null && figure(pair.Base) > 0)
                .Select(pair => figure(pair.Run) / figure(pair.Base!))
                .ToList();

        static double Rate(CaseResult run) => run.OperationsPerSecond;
        static double P50(CaseResult run) => run.Latency.Percentile(0.5);
        static double CpuPerOp(CaseResult run) => run.Operations > 0 ? (run.ClientCpu + run.ServerCpu).TotalMicroseconds / run.Operations : 0;

        void Ratio(string caseName, string baseCase, string baseLibrary, double goal, string what)
        {
            if (Find(caseName, "locking") is null || Find(baseCase, baseLibrary) is null)
            {
                return;
            }

            var ratios = RoundRatios(caseName, "locking", baseCase, baseLibrary, Rate);
            var ratio = Median(ratios);
            // The others on the same scale: against the same library in the same case, or each against itself in the base case.
            var peers = string.Join(", ", results
                .Where(r => r.Case == caseName && r.Library != "locking" && (baseCase != caseName || r.Library != baseLibrary))
                .Select(r => string.Create(s_invariant,
                    $"{r.Library} {Median(RoundRatios(caseName, r.Library, baseCase, baseCase == caseName ? baseLibrary : r.Library, Rate)):0.00}x")));

            verdicts.Add(new Verdict(
                string.Create(s_invariant, $"{caseName}: ops/s >= {goal:0.00}x {what}"),
                string.Create(s_invariant, $"median of the rounds' ratios {ratio:0.00}x (rounds: {List(ratios)})") + (peers.Length > 0 ? $" (others: {peers})" : ""),
                ratios.Count > 0 && ratio >= goal));

            // One task's rate is the inverse of its mean latency, which a loaded machine's preemptions dominate; the median
            // latency and the CPU per op (client + server) are steadier, so they are said beside the verdict.
            if (caseName.StartsWith("uncontended", StringComparison.Ordinal))
            {
                var p50Ratios = RoundRatios(caseName, "locking", baseCase, baseLibrary, P50);
                verdicts.Add(new Verdict(
                    $"{caseName}: p50 latency against {what} (below 1 is faster)",
                    string.Create(s_invariant, $"median {Median(p50Ratios):0.00}x (rounds: {List(p50Ratios)})"),
                    null));
            }

            var cpuRatios = RoundRatios(caseName, "locking", baseCase, baseLibrary, CpuPerOp);
            if (cpuRatios.Count > 0)
            {
                verdicts.Add(new Verdict(
                    $"{caseName}: CPU per op (client + redis-server) against {what}",
                    string.Create(s_invariant, $"median {Median(cpuRatios):0.00}x (rounds: {List(cpuRatios)})"),
                    null));
            }
        }

        Ratio("uncontended", "uncontended", "floor", 0.95, "floor");
        Ratio("uncontended", "uncontended", "distributedlock", 0.95, "DistributedLock.Redis");
        Ratio("parallel", "parallel", "floor", 0.90, "floor");
        Ratio("parallel", "parallel", "distributedlock", 0.95, "DistributedLock.Redis");
        if (Find("uncontended-crowd", "locking") is not null)
        {
            Ratio("uncontended-crowd", "uncontended", "locking", 0.90, "uncontended (same library, same round)");
        }

        if (Find("uncontended", "locking") is { CommandsPerOperation: { } commands })
        {
            verdicts.Add(new Verdict("uncontended: at most 2 round trips per pair", string.Create(s_invariant, $"{commands:0.##} commands per pair"), commands <= 2.0));
        }

        foreach (var caseName in new[] { "uncontended", "parallel" })
        {
            if (Find(caseName, "locking") is { Operations: > 0 } locking)
            {
                var others = string.Join(", ", results.Where(r => r.Case == caseName && r.Library != "locking")
                    .Select(r => $"{r.Library} {Per(r.AllocatedPerOperation)} B"));
                verdicts.Add(new Verdict(
                    $"{caseName}: allocated <= 1,536 B per pair",
                    $"{Per(locking.AllocatedPerOperation)} B" + (others.Length > 0 ? $" (others: {others})" : ""),
                    locking.AllocatedPerOperation <= 1536));
            }
        }

        foreach (var (caseName, handoffsGoal, spreadGoal) in new[] { ("handoff", 10_000, (double?)null), ("handoff-conns", 5_000, 10.0) })
        {
            if (Find(caseName, "locking") is not { } locking)
            {
                continue;
            }

            // Judged on the median over the rounds of each figure, every round's figure listed.
            var rounds = everyRun.Where(r => r.Case == caseName && r.Library == "locking").OrderBy(r => r.Round).ToList();
            string Rounds(Func<CaseResult, double> figure, string format) => rounds.Count > 1 ? $" (rounds: {List(rounds.Select(figure), format)})" : "";
            double MedianOf(Func<CaseResult, double> figure) => Median(rounds.Select(figure).ToList());
            var handoffs = MedianOf(r => r.HandoffsPerSecond);
            verdicts.Add(new Verdict(
                $"{caseName}: >= {Per(handoffsGoal)} handoffs/s between distinct holders",
                $"median {Per(handoffs)}/s" + Rounds(r => r.HandoffsPerSecond, "N0"),
                handoffs >= handoffsGoal));
            var worstWait = MedianOf(r => r.Latency.MaxMicroseconds / 1000.0);
            verdicts.Add(new Verdict(
                $"{caseName}: worst wait < 50 ms",
                string.Create(s_invariant, $"median {worstWait:0.0} ms") + Rounds(r => r.Latency.MaxMicroseconds / 1000.0, "0.0"),
                worstWait < 50));
            var spread = MedianOf(r => Spread(r.PerContender ?? []));
            var gaveUp = rounds.Sum(r => r.NotAcquired);
            var starved = rounds.Count(r => r.Starved);
            var counts = locking.PerContender ?? [];
            var measured = string.Create(s_invariant,
                $"median spread {spread:0.0} % (the median run: min {(counts.Length > 0 ? counts.Min() : 0)}, max {(counts.Length > 0 ? counts.Max() : 0)} acquisitions per contender), " +
                $"{gaveUp} gave up, {starved} rounds with a starved contender") + Rounds(r => Spread(r.PerContender ?? []), "0.0");
            verdicts.Add(spreadGoal is { } goal
                ? new Verdict($"{caseName}: acquisitions per contender within {goal:0} % of each other, none gave up", measured, spread <= goal && gaveUp == 0 && starved == 0)
                : new Verdict($"{caseName}: no contender starved, none gave up", measured, gaveUp == 0 && starved == 0));
        }

        if (Find("hold", "locking") is { Hold: { } hold })
        {
            verdicts.Add(new Verdict(
                $"hold: none of {hold.Leases:N0} leases lost",
                string.Create(s_invariant, $"{hold.Lost} lost; client CPU {hold.ProcessCpuPercent:0.0} % of a core, {hold.ManagedBytesPerLease} B managed per lease"),
                hold.Lost == 0));
        }

        foreach (var run in everyRun.Where(r => r.Library == "locking"))
        {
            if (run.ExclusionViolations > 0 || run.Errors > 0 || run.Hung)
            {
                verdicts.Add(new Verdict($"{run.Case} round {run.Round + 1}: runs clean", $"{run.ExclusionViolations} exclusion violations, {run.Errors} errors{(run.Hung ? ", hung" : "")}", false));
            }
        }

        return verdicts;
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
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
