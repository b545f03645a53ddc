using System.Collections.Immutable;
using System.Diagnostics;
using System.Text;
using Locking.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit.Abstractions;

namespace Locking.Analyzers.Tests;

/// <summary>
/// Every analyzer over a generated 2,000-method compilation (after the generator ran, as in a build). Prints each
/// analyzer's CPU time; asserts what it reports, never how long it took (timing goals live in bench/, and the
/// figures in docs/benchmarks.md).
/// </summary>
public sealed class AnalyzerPerformanceTests(ITestOutputHelper output)
{
    private const int Types = 200; // ten methods each

    /// <summary>
    /// All analyzers together, as a build runs them, each wrapped so that the CPU time of the thread inside its
    /// callbacks is added up (the driver's own telemetry counts wall time, which on a busy machine mostly measures
    /// the other processes). With LOCKING_ANALYZER_COST_ROUNDS=n it also runs each analyzer alone, n rounds after a
    /// warm-up, on a fresh clone of the compilation each time (nothing bound by an earlier run is reused, so an
    /// analyzer pays for the binding it asks for): the figures docs/benchmarks.md reports.
    /// </summary>
    [Fact]
    public async Task Two_thousand_methods_raise_exactly_the_planted_bugs()
    {
        var generated = SyntheticCompilation();
        var timed = CorpusTests.AllAnalyzers.Select(a => new CpuTimedAnalyzer(a)).ToArray();
        var withAnalyzers = generated.WithAnalyzers(timed.Cast<DiagnosticAnalyzer>().ToImmutableArray(), new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: false));
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync();
        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        output.WriteLine($"{Types * 10} methods in {Types} files: binding and analysis took {clock.ElapsedMilliseconds} ms wall, {cpu.TotalMilliseconds:0} ms CPU "
            + $"({Environment.ProcessorCount} cores, load average {LoadAverage()}); {CpuUnit} ms in each analyzer's callbacks:");
        foreach (var analyzer in timed)
        {
            output.WriteLine($"  {analyzer.Inner.GetType().Name,-24} {analyzer.CpuTime.TotalMilliseconds,8:0.0}   {Rules(analyzer.Inner)}");
        }

        var byId = diagnostics.GroupBy(d => d.Id).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine("  reported: " + string.Join(", ", byId.OrderBy(p => p.Key).Select(p => $"{p.Key} x{p.Value}")));
        Assert.Equal(PlantedBugs, byId);

        if (int.TryParse(Environment.GetEnvironmentVariable("LOCKING_ANALYZER_COST_ROUNDS"), out var rounds) && rounds > 0)
        {
            await EachAloneAsync(generated, rounds);
        }
    }

    private async Task EachAloneAsync(Compilation generated, int rounds)
    {
        var analyzers = CorpusTests.AllAnalyzers;
        var cpuMs = analyzers.ToDictionary(a => a, _ => new List<double>());
        var reported = new Dictionary<string, int>();
        for (var round = 0; round <= rounds; round++)
        {
            foreach (var analyzer in analyzers)
            {
                var timed = new CpuTimedAnalyzer(analyzer);
                var diagnostics = await generated.Clone().WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(timed), new CompilationWithAnalyzersOptions(
                        new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false))
                    .GetAnalyzerDiagnosticsAsync();
                if (round == 0)
                {
                    // The warm-up round (JIT) is not timed; it is where each analyzer's share of the reports is counted.
                    foreach (var group in diagnostics.GroupBy(d => d.Id))
                    {
                        reported[group.Key] = reported.GetValueOrDefault(group.Key) + group.Count();
                    }
                }
                else
                {
                    cpuMs[analyzer].Add(timed.CpuTime.TotalMilliseconds);
                }
            }
        }

        output.WriteLine($"Each analyzer alone, {rounds} round(s) after a warm-up, load average {LoadAverage()}; {CpuUnit} ms in its callbacks (median, min, max):");
        foreach (var analyzer in analyzers)
        {
            var times = cpuMs[analyzer].Order().ToArray();
            output.WriteLine($"  {analyzer.GetType().Name,-24} {times[times.Length / 2],8:0.0} {times[0],8:0.0} {times[^1],8:0.0}   {Rules(analyzer)}");
        }

        Assert.Equal(PlantedBugs, reported);
    }

    private static string CpuUnit => CpuTimedAnalyzer.ThreadCpu.IsCpuTime ? "thread CPU" : "wall (no thread CPU clock here)";

    private static string Rules(DiagnosticAnalyzer analyzer) => string.Join(" ", analyzer.SupportedDiagnostics.Select(d => d.Id).Distinct());

    private static Dictionary<string, int> PlantedBugs { get; } = new()
    {
        ["LOCK001"] = Types / 10,
        ["LOCK002"] = Types / 20,
        ["LOCK004"] = Types / 25,
        ["LOCK012"] = Types / 25,
        ["LOCK014"] = Types / 20 * 2,
    };

    /// <summary>The synthetic sources, compiled and run through the generator, as a build hands them to the analyzers.</summary>
    private static Compilation SyntheticCompilation()
    {
        var compilation = CSharpCompilation.Create("Synthetic",
            SyntheticSources().Select((text, i) => CSharpSyntaxTree.ParseText(text, path: $"Service{i}.cs"))
                .Prepend(CSharpSyntaxTree.ParseText(TestReferences.GlobalUsings, path: "GlobalUsings.cs")),
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create(new Locking.Generators.ExclusiveGenerator())
            .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
        Assert.Empty(generated.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        return generated;
    }

    /// <summary>The 1-minute load average where the OS tells it: wall time on a busy machine says little.</summary>
    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

    /// <summary>
    /// Realistic members, ten per type: [Exclusive] methods and bodies, leases, a cache keyed by its callers, a
    /// hand-written Redis lock (LockTake, LockExtend, LockRelease) and a once-only marker; a few planted bugs.
    /// </summary>
    internal static IEnumerable<string> SyntheticSources()
    {
        for (var i = 0; i < Types; i++)
        {
            var source = new StringBuilder();
            var leaky = i % 10 == 0;
            var naiveRedis = i % 20 == 0;
            var sharedOwner = i % 20 == 10;
            var reentrant = i % 25 == 0;
            var counterLock = i % 25 == 3;
            source.Append($$"""
                public sealed partial class Service{{i}}(ILockProvider locks, IDatabase db)
                {
                    [Exclusive("orders{{i}}/{orderId}")]
                    public partial Task ChargeAsync(string orderId, CancellationToken ct);

                    private async Task ChargeAsyncCore(string orderId, LockLease lease, CancellationToken ct)
                    {
                        await db.StringSetAsync("charged:" + orderId, lease.FencingToken, TimeSpan.FromDays(1));
                        await AuditAsync({{(reentrant ? "orderId" : "\"audit-\" + orderId")}}, ct);
                    }

                    [Exclusive("orders{{i}}/{id}", Ttl = "10s")]
                    public partial Task AuditAsync(string id, CancellationToken ct);

                    private Task AuditAsyncCore(string id, CancellationToken ct) => Task.CompletedTask;

                    public async Task<long> RunAsync(string job, CancellationToken ct)
                    {
                        await using var lease = await locks.AcquireAsync("jobs{{i}}/" + job, cancellationToken: ct);
                        return lease.FencingToken;
                    }

                    public async Task<bool> TryRunAsync(string job)
                    {
                        var lease = await locks.TryAcquireAsync("jobs{{i}}/" + job);
                        if (lease is null) return false;
                        try { await Task.Yield(); return true; }
                        finally { {{(leaky ? "Console.WriteLine(lease);" : "await lease.ReleaseAsync();")}} }
                    }

                    public Task<bool> CacheAsync(string key, string json) => db.StringSetAsync(key, json, TimeSpan.FromMinutes(5), When.NotExists);

                    public Task<bool> InvalidateAsync(string key) => db.KeyDeleteAsync(key);

                    public async Task<bool> ClaimAsync(string id)
                    {
                        var key = "claim{{i}}:" + id;
                        var owner = {{(sharedOwner ? "Environment.MachineName" : "Guid.NewGuid().ToString(\"N\")")}};
                        if (!await db.LockTakeAsync(key, owner, TimeSpan.FromSeconds(30))) return false;
                        try
                        {
                            await db.StringSetAsync("claimed{{i}}:" + id, owner);
                            return await db.LockExtendAsync(key, owner, TimeSpan.FromSeconds(30));
                        }
                        finally { await {{(naiveRedis ? "db.KeyDeleteAsync(key)" : "db.LockReleaseAsync(key, owner)")}}; }
                    }

                    public async Task<bool> MarkOnceAsync(string id)
                    {
                        {{(counterLock
                            ? "if (await db.StringIncrementAsync(\"once" + i + ":\" + id) != 1) return false;\n        await db.KeyExpireAsync(\"once" + i + ":\" + id, TimeSpan.FromHours(1));\n        return true;"
                            : "return await db.StringSetAsync(\"once" + i + ":\" + id, 1, TimeSpan.FromHours(1), When.NotExists);")}}
                    }
                }

                """);
            yield return source.ToString();
        }
    }
}
