// The Locking sample: three small scenarios on one lock store, a timeline of what happened, and a summary of
// the invariants that must hold. Exits 0 only when every invariant held.
//
//   dotnet run --project samples/Locking.Sample                                  (in-process Orleans silo)
//   dotnet run --project samples/Locking.Sample -- --store redis --redis localhost:6379
//   dotnet run --project samples/Locking.Sample -- --verbose                     (the logs too)
using System.Net;
using System.Net.Sockets;
using Locking;
using Locking.Sample;
using Locking.Sample.Scenarios;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(SampleOptions.Usage);
    return 0;
}

SampleOptions options;
try
{
    options = SampleOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(SampleOptions.Usage);
    return 2;
}

var timeline = new Timeline();
var libraryEvents = new TimelineLoggerProvider(timeline);
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = Environments.Production });
builder.Logging.ClearProviders();
if (options.Verbose)
{
    // The logs behind the story: Orleans and the host at Information, the lock library at Debug.
    builder.Logging.AddSimpleConsole(console => console.SingleLine = true)
        .AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(null, LogLevel.Information)
        .AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>("Locking", LogLevel.Debug);
}

builder.Logging.AddProvider(libraryEvents).AddFilter<TimelineLoggerProvider>("Locking", LogLevel.Trace);
builder.Services.AddHealthChecks().AddLocking();

string storeDescription;
if (options.Store == "redis")
{
    builder.Services.AddLocking(locking => locking.UseRedis(options.Redis));
    storeDescription = $"Redis at {options.Redis}";
}
else
{
    // A one-silo Orleans cluster inside this process: the lock grains live here, nothing else to run.
    // Free ports, so a second copy of the sample (or a silo already on 11111) does not collide.
    var (siloPort, gatewayPort) = (FreePort(), FreePort());
    builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort).AddLockGrains());
    builder.Services.AddLocking(locking => locking.UseOrleans());
    storeDescription = $"Orleans, an in-process silo on 127.0.0.1:{siloPort}";
}

using var host = builder.Build();
using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2) + options.Duration);
timeline.Line($"Locking sample — store: {storeDescription}");
await host.StartAsync(timeout.Token);

// Whether the store answers, asked the way an app's /health endpoint asks it: a store that cannot be reached is said
// so at once, before any scenario.
var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(timeout.Token);
var store = health.Entries[LockingHealthChecksBuilderExtensions.DefaultName];
if (store.Status != HealthStatus.Healthy)
{
    Console.Error.WriteLine($"The lock store ({storeDescription}) cannot be reached: {store.Description}");
    Console.Error.WriteLine("Start it, or run without --store to use the in-process Orleans silo.");
    await host.StopAsync(CancellationToken.None);
    return 3;
}

var locks = host.Services.GetRequiredService<ILockProvider>();

// One lease before the scenarios, so that their wait times do not include connecting, activating and JIT.
var warmUp = System.Diagnostics.Stopwatch.StartNew();
await (await locks.AcquireAsync("sample/warm-up", cancellationToken: timeout.Token)).DisposeAsync();
timeline.Line($"  ready after {timeline.Elapsed.TotalSeconds:0.0} s: {store.Description} First lease taken and released in {warmUp.Elapsed.TotalMilliseconds:0} ms.");
var invariants = new Invariants();
try
{
    await new AccountScenario(new Bank(locks, new AccountBook(), timeline), timeline)
        .RunAsync(options.Workers, options.Duration, invariants, timeout.Token);
    await new NightlyJobScenario(new ReportJob(locks, timeline), timeline, libraryEvents)
        .RunAsync(invariants, timeout.Token);
    var ledger = new FencedLedger();
    await new StaleHolderScenario(new LedgerWriter(locks, ledger, timeline), ledger, timeline)
        .RunAsync(invariants, timeout.Token);
}
catch (Exception ex)
{
    timeline.EndProgress();
    invariants.Check("run", "every scenario ran to its end", false, $"{ex.GetType().Name}: {ex.Message}");
}

invariants.Print(timeline);
timeline.Line($"Finished in {timeline.Elapsed.TotalSeconds:0.0} s.");
await host.StopAsync(CancellationToken.None);
return invariants.AllHeld ? 0 : 1;

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}
