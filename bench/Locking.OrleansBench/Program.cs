// Orleans lock grain measurements: one silo in this process on loopback TCP, a hosted caller (the silo's own
// grain factory) and an external cluster client (through the gateway), each next to a no-op grain call pair
// (the floor); contended handoff latency on one key; memory of 100,000 lock activations and their collection.
//
//   dotnet run -c Release --project bench/Locking.OrleansBench [-- --seconds 5 --keys 100000]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Locking;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime;

var seconds = Option("--seconds", 5);
var keyCount = Option("--keys", 100_000);
var (siloPort, gatewayPort) = (FreePort(), FreePort());

var siloBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
siloBuilder.Logging.ClearProviders();
siloBuilder.UseOrleans(silo => silo
    .UseLocalhostClustering(siloPort, gatewayPort)
    .Configure<GrainCollectionOptions>(options =>
    {
        // Short, so that "idle keys are collected" can be watched within the run.
        options.CollectionQuantum = TimeSpan.FromSeconds(5);
        options.CollectionAge = TimeSpan.FromSeconds(20);
    })
    .AddLockGrains());
using var silo = siloBuilder.Build();
await silo.StartAsync();

var clientBuilder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
clientBuilder.Logging.ClearProviders();
clientBuilder.UseOrleansClient(client => client.UseLocalhostClustering(gatewayPort));
using var client = clientBuilder.Build();
await client.StartAsync();

var hostedGrains = silo.Services.GetRequiredService<IGrainFactory>();
var externalGrains = client.Services.GetRequiredService<IClusterClient>();
await using var hosted = new OrleansLockProvider(hostedGrains);
await using var external = new OrleansLockProvider(externalGrains);

Console.WriteLine($"Orleans {typeof(IGrainFactory).Assembly.GetName().Version}, .NET {Environment.Version}, {Environment.ProcessorCount} cores, {seconds} s per case");
Console.WriteLine();
Console.WriteLine("| case | caller | concurrency | pairs/s | p50 ms | p99 ms |");
Console.WriteLine("|---|---|---:|---:|---:|---:|");
foreach (var concurrency in new[] { 1, 16 })
{
    foreach (var (caller, grains, provider) in new[] { ("hosted", hostedGrains, hosted), ("external client", (IGrainFactory)externalGrains, external) })
    {
        var floor = await MeasureAsync(concurrency, seconds, async worker =>
        {
            var ping = grains.GetGrain<IPingGrain>($"ping/{worker}");
            await ping.PingAsync();
            await ping.PingAsync();
        });
        Report("no-op grain call pair (floor)", caller, concurrency, floor);

        var locks = await MeasureAsync(concurrency, seconds, async worker =>
        {
            await using var lease = await provider.AcquireAsync($"bench/uncontended/{worker}");
        });
        Report("acquire + release, uncontended", caller, concurrency, locks);
    }
}

Console.WriteLine();
Console.WriteLine("| contended handoff, one key | holders | handoffs/s | p50 ms | p99 ms |");
Console.WriteLine("|---|---:|---:|---:|---:|");
foreach (var (caller, provider) in new[] { ("hosted", hosted), ("external client", external) })
{
    foreach (var holders in new[] { 2, 8 })
    {
        var (rate, p50, p99) = await HandoffAsync(provider, holders, seconds);
        Console.WriteLine($"| {caller} | {holders} | {rate:N0} | {p50:0.00} | {p99:0.00} |");
    }
}

Console.WriteLine();
await MemoryAsync(hostedGrains, keyCount);

await client.StopAsync();
await silo.StopAsync();
return 0;

static void Report(string name, string caller, int concurrency, (double Rate, double P50, double P99) result)
    => Console.WriteLine($"| {name} | {caller} | {concurrency} | {result.Rate:N0} | {result.P50:0.000} | {result.P99:0.000} |");

// Runs `operation` in `concurrency` loops for a warm-up second and then `seconds`; returns pairs/s and latency percentiles.
static async Task<(double Rate, double P50, double P99)> MeasureAsync(int concurrency, int seconds, Func<int, Task> operation)
{
    var warmUp = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
    {
        while (warmUp.Elapsed < TimeSpan.FromSeconds(1))
        {
            await operation(worker);
        }
    })));

    var samples = new List<double>[concurrency];
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
    {
        var mine = samples[worker] = new List<double>(100_000);
        while (clock.Elapsed < until)
        {
            var started = Stopwatch.GetTimestamp();
            await operation(worker);
            mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    })));
    var elapsed = clock.Elapsed.TotalSeconds;
    var all = samples.SelectMany(s => s).Order().ToArray();
    return (all.Length / elapsed, Percentile(all, 0.50), Percentile(all, 0.99));
}

// `holders` loops take the same key in turn and release it at once; a handoff is timed from the moment the
// previous holder started its release to the moment the next holder had the lease.
static async Task<(double Rate, double P50, double P99)> HandoffAsync(OrleansLockProvider provider, int holders, int seconds)
{
    var key = $"bench/handoff/{holders}/{Guid.NewGuid():N}";
    var options = new LockOptions { Wait = TimeSpan.FromSeconds(30) };
    long releaseStarted = 0;
    var samples = new List<double>();
    var clock = Stopwatch.StartNew();
    var until = TimeSpan.FromSeconds(seconds);
    await Task.WhenAll(Enumerable.Range(0, holders).Select(_ => Task.Run(async () =>
    {
        while (clock.Elapsed < until)
        {
            var lease = await provider.AcquireAsync(key, options);
            var granted = Stopwatch.GetTimestamp();
            var previous = Interlocked.Exchange(ref releaseStarted, 0);
            if (previous != 0)
            {
                lock (samples)
                {
                    samples.Add(Stopwatch.GetElapsedTime(previous, granted).TotalMilliseconds);
                }
            }

            Volatile.Write(ref releaseStarted, Stopwatch.GetTimestamp());
            await lease.ReleaseAsync();
        }
    })));
    var all = samples.Order().ToArray();
    return (all.Length / clock.Elapsed.TotalSeconds, Percentile(all, 0.50), Percentile(all, 0.99));
}

static async Task MemoryAsync(IGrainFactory grains, int keys)
{
    var management = grains.GetGrain<IManagementGrain>(0);
    await using var provider = new OrleansLockProvider(grains);
    await Settle(management);
    var before = ManagedBytes();
    var clock = Stopwatch.StartNew();
    var batch = new List<Task>(512);
    for (var i = 0; i < keys; i++)
    {
        var key = $"bench/memory/{i}";
        batch.Add(Task.Run(async () => await (await provider.AcquireAsync(key)).DisposeAsync()));
        if (batch.Count == batch.Capacity)
        {
            await Task.WhenAll(batch);
            batch.Clear();
        }
    }

    await Task.WhenAll(batch);
    var activated = clock.Elapsed;
    var active = await LockActivations(management);
    var withActivations = ManagedBytes();
    Console.WriteLine($"| {keys:N0} keys, each acquired and released once | value |");
    Console.WriteLine("|---|---:|");
    Console.WriteLine($"| time to activate, acquire and release all (512 in flight) | {activated.TotalSeconds:0.0} s |");
    Console.WriteLine($"| lock grain activations after the run | {active:N0} |");
    Console.WriteLine($"| managed heap growth (activations + memory-storage records) | {(withActivations - before) / 1048576.0:0.0} MiB, {(withActivations - before) / (double)keys:0} bytes/key |");

    // Idle activations are collected after CollectionAge (20 s here); the records stay in storage.
    var idle = Stopwatch.StartNew();
    while (await LockActivations(management) > 0 && idle.Elapsed < TimeSpan.FromSeconds(90))
    {
        await Task.Delay(1000);
    }

    var left = await LockActivations(management);
    var afterCollection = ManagedBytes();
    Console.WriteLine($"| lock grain activations {idle.Elapsed.TotalSeconds:0} s later (collection age 20 s) | {left:N0} |");
    Console.WriteLine($"| managed heap left over once collected (the memory-storage records) | {(afterCollection - before) / 1048576.0:0.0} MiB, {(afterCollection - before) / (double)keys:0} bytes/key |");
}

static async Task Settle(IManagementGrain management)
{
    await management.GetTotalActivationCount();
    ManagedBytes();
}

static async Task<int> LockActivations(IManagementGrain management)
    => (await management.GetSimpleGrainStatistics())
        .Where(statistic => statistic.GrainType.Contains("LockGrain", StringComparison.Ordinal))
        .Sum(statistic => statistic.ActivationCount);

static long ManagedBytes()
{
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    return GC.GetTotalMemory(forceFullCollection: true);
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>The floor: a grain call that does nothing.</summary>
[Alias("Locking.OrleansBench.IPingGrain")]
public interface IPingGrain : IGrainWithStringKey
{
    [Alias("Ping")]
    Task PingAsync();
}

/// <summary>Does nothing, as fast as a grain can.</summary>
public sealed class PingGrain : Grain, IPingGrain
{
    public Task PingAsync() => Task.CompletedTask;
}
