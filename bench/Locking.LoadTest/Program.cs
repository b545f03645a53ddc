using Locking.LoadTest;
using Locking.LoadTest.Cases;
using Locking.LoadTest.Libraries;
using Locking.LoadTest.Measurement;
using Locking.Testing;
using StackExchange.Redis;

// The load harness: one invocation starts its own redis-server, runs every case against every library on it, and
// prints a table plus one RESULT line per case and library. Loopback only; every loop ends by itself.
var options = LoadOptions.Parse(args, Console.Error);
if (options is null)
{
    return args.Contains("--help") || args.Contains("-h") ? 0 : 2;
}

Console.WriteLine($"Machine: {Report.Machine()}");
Console.WriteLine($"Command: {Report.CommandLine(args)}");

await using var server = await RedisServer.StartAsync();
var configuration = server.Configuration(timeoutMs: 5000);
var adminConfiguration = configuration.Clone();
adminConfiguration.AllowAdmin = true;
await using var admin = await ConnectionMultiplexer.ConnectAsync(adminConfiguration);
var adminServer = admin.GetServer(server.Endpoint);
var redisVersion = adminServer.Version;
Console.WriteLine($"Server: redis-server {redisVersion} on {server.Endpoint} (pid {server.ProcessId}), started by this run");
Console.WriteLine(
    $"Duration {options.Duration.TotalSeconds:0.#} s per case and library after {options.Warmup.TotalSeconds:0.#} s warm-up, " +
    $"{options.Rounds} round(s)");

var kinds = LibraryKind.All.Where(kind => options.Libraries.Contains(kind.Name)).ToList();
Console.WriteLine($"Load average at start: {ResourceReading.LoadAverage()}");

// Warm every library up once on the paths all cases share (JIT tiers, connection pools, script caches), so the
// first library measured does not pay for code the others then reuse.
if (options.Warmup > TimeSpan.Zero)
{
    var warmup = options with { Duration = options.Warmup, Warmup = TimeSpan.Zero };
    foreach (var kind in kinds)
    {
        foreach (var caseName in new[] { "uncontended", "parallel" })
        {
            await RunOneAsync(LoadCase.Create(caseName, warmup), kind, warmup);
        }
    }
}
// Rounds outermost: every round runs every case against every library, so that a ratio taken within a round (Locking
// to the floor or to a peer in one case, or one case to another such as uncontended-crowd to uncontended) compares
// runs minutes apart at most. A case measured against another case (its reference) runs right beside it, library by
// library, first after it and then before it in alternate rounds, so that the two runs of a ratio are seconds apart.
var cases = options.Cases.Select(name => LoadCase.Create(name, options)).ToList();
var groups = new List<List<LoadCase>>();
foreach (var loadCase in cases)
{
    var reference = loadCase.ReferenceCase is { } name ? groups.FirstOrDefault(group => group.Any(other => other.Name == name)) : null;
    if (reference is not null)
    {
        reference.Add(loadCase);
    }
    else
    {
        groups.Add([loadCase]);
    }
}

Console.WriteLine();
foreach (var loadCase in cases)
{
    Console.WriteLine($"== {loadCase.Name}: {loadCase.Description}");
}

var everyRun = new List<CaseResult>();
for (var round = 0; round < options.Rounds; round++)
{
    Console.WriteLine();
    Console.WriteLine($"-- round {round + 1} of {options.Rounds}, load average {ResourceReading.LoadAverage()}");
    foreach (var group in groups)
    {
        foreach (var kind in kinds)
        {
            foreach (var loadCase in round % 2 == 0 ? group : Enumerable.Reverse(group))
            {
                if (!loadCase.AppliesTo(kind))
                {
                    continue;
                }

                await adminServer.FlushAllDatabasesAsync();
                // Start each library from a clean heap, so one library's garbage is not collected on another's clock.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                var result = await RunOneAsync(loadCase, kind, options);
                result.Round = round;
                everyRun.Add(result);
                Console.WriteLine(
                    $"   {loadCase.Name,-17} {kind.Name,-16} {result.OperationsPerSecond,10:N0} ops/s  p50 {result.Latency.Percentile(0.5),7:N0} µs  " +
                    $"p99 {result.Latency.Percentile(0.99),8:N0} µs  max {result.Latency.MaxMicroseconds,9:N0} µs  " +
                    $"{result.AllocatedPerOperation,7:N0} B/op" +
                    (result.Case.StartsWith("handoff", StringComparison.Ordinal) ? $"  {result.HandoffsPerSecond,7:N0} handoffs/s" : ""));
                foreach (var detail in Report.Details(result))
                {
                    Console.WriteLine($"      {detail}");
                }
            }
        }
    }
}

// With several rounds, each library's median run by ops/s stands for it.
Console.WriteLine();
var all = new List<CaseResult>();
foreach (var group in everyRun.GroupBy(run => (run.Case, run.Library)))
{
    var ordered = group.OrderBy(run => run.OperationsPerSecond).ToList();
    var chosen = ordered[ordered.Count / 2];
    all.Add(chosen);
    Console.WriteLine(Report.ResultLine(chosen));
}

Console.WriteLine();
Report.PrintTable(Console.Out, all);
if (options.Markdown)
{
    Console.WriteLine();
    Report.PrintMarkdown(Console.Out, all);
}

Console.WriteLine();
Console.WriteLine($"Load average at end: {ResourceReading.LoadAverage()}");
var verdicts = Report.Goals(all, everyRun);
Report.PrintGoals(Console.Out, verdicts);
return options.Strict && verdicts.Any(verdict => verdict.Met == false) ? 1 : 0;

async Task<CaseResult> RunOneAsync(LoadCase loadCase, LibraryKind kind, LoadOptions runOptions)
{
    try
    {
        await using var library = await kind.ConnectAsync(configuration);
        return await library.RunAsync(loadCase, new CaseContext(runOptions, server, configuration, kind));
    }
    catch (Exception ex)
    {
        var failed = new CaseResult(loadCase.Name, kind.Name) { Errors = 1, FirstError = ex.GetBaseException().Message };
        failed.Notes.Add($"run failed: {ex.GetType().Name}: {ex.GetBaseException().Message}");
        Console.Error.WriteLine($"{loadCase.Name}/{kind.Name} failed: {ex}");
        return failed;
    }
}
