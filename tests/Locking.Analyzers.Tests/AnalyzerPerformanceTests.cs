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
/// analyzer's execution time; asserts what it reports, never how long it took (timing goals live in bench/).
/// </summary>
public sealed class AnalyzerPerformanceTests(ITestOutputHelper output)
{
    private const int Types = 200; // ten methods each

    [Fact]
    public async Task Two_thousand_methods_raise_exactly_the_planted_bugs()
    {
        var compilation = CSharpCompilation.Create("Synthetic",
            SyntheticSources().Select((text, i) => CSharpSyntaxTree.ParseText(text, path: $"Service{i}.cs"))
                .Prepend(CSharpSyntaxTree.ParseText(TestReferences.GlobalUsings, path: "GlobalUsings.cs")),
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create(new Locking.Generators.ExclusiveGenerator())
            .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
        Assert.Empty(generated.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var analyzers = CorpusTests.AllAnalyzers;
        var withAnalyzers = generated.WithAnalyzers(analyzers, new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: true));
        // CPU time next to wall time: on a shared, busy machine the wall clock mostly measures the others.
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync();
        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        output.WriteLine($"{Types * 10} methods in {Types} files: binding and analysis took {clock.ElapsedMilliseconds} ms wall, {cpu.TotalMilliseconds:0} ms CPU "
            + $"({Environment.ProcessorCount} cores, load average {LoadAverage()}); execution time per analyzer:");
        foreach (var analyzer in analyzers)
        {
            var telemetry = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None);
            output.WriteLine($"  {analyzer.GetType().Name,-24} {telemetry.ExecutionTime.TotalMilliseconds,8:0.0} ms");
        }

        var byId = diagnostics.GroupBy(d => d.Id).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine("  reported: " + string.Join(", ", byId.OrderBy(p => p.Key).Select(p => $"{p.Key} x{p.Value}")));
        Assert.Equal(new Dictionary<string, int> { ["LOCK001"] = Types / 10, ["LOCK002"] = Types / 20, ["LOCK012"] = Types / 25 }, byId);
    }

    /// <summary>The 1-minute load average where the OS tells it: wall time on a busy machine says little.</summary>
    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

    /// <summary>Realistic members: [Exclusive] methods and bodies, leases, a cache; a few planted bugs.</summary>
    private static IEnumerable<string> SyntheticSources()
    {
        for (var i = 0; i < Types; i++)
        {
            var source = new StringBuilder();
            var leaky = i % 10 == 0;
            var naiveRedis = i % 20 == 0;
            var reentrant = i % 25 == 0;
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

                    public Task<bool> CacheAsync(int id, string json) => db.StringSetAsync("product{{i}}:" + id, json, TimeSpan.FromMinutes(5));

                    public Task<bool> InvalidateAsync(int id) => db.KeyDeleteAsync("product{{i}}:" + id);

                    public Task<bool> ClaimAsync(string id) => db.StringSetAsync("claim{{i}}:" + id, "me", TimeSpan.FromSeconds(30), When.NotExists);

                    public Task<bool> UnclaimAsync(string id) => {{(naiveRedis ? "db.KeyDeleteAsync(\"claim" + i + ":\" + id)" : "Task.FromResult(false)")}};
                }

                """);
            yield return source.ToString();
        }
    }
}
