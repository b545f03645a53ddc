using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;

namespace Locking.Cluster;

/// <summary>A cluster client whose workers restock shared inventory through [Exclusive] methods.</summary>
internal static class ClientProcess
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var redis = arguments.Redis;
        var run = arguments.Required("run");
        var client = arguments.Required("client");
        var workers = arguments.Number("workers", 8);
        var operations = arguments.Number("operations", 200);
        var skus = arguments.Number("skus", 4);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        builder.UseOrleansClient(orleans => orleans
            .Configure<ClusterOptions>(ClusterSettings.Cluster)
            .Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = TimeSpan.FromSeconds(2))
            .UseRedisClustering(options => options.ConfigurationOptions = ClusterSettings.Redis(redis)));
        builder.Services.AddLocking(locking => locking.UseOrleans());
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(ClusterSettings.Redis(redis)));
        builder.Services.AddSingleton(services => new Warehouse(services.GetRequiredService<IConnectionMultiplexer>(), run));
        builder.Services.AddSingleton<Inventory>();

        using var host = builder.Build();
        await host.StartAsync();
        var inventory = host.Services.GetRequiredService<Inventory>();
        Console.WriteLine($"{client}: connected; {workers} workers x {operations} restocks over {skus} SKUs");

        var latencies = new List<double>[workers];
        var lost = 0;
        var busy = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var mine = latencies[worker] = new List<double>(operations);
            for (var i = 0; i < operations; i++)
            {
                var sku = $"sku-{(worker + i) % skus}";
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await inventory.RestockAsync(sku, units: 1, CancellationToken.None);
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                catch (LeaseLostException)
                {
                    // The lease ran out before a renewal got through (a silo died under it): the body's write
                    // landed only if its fencing token was still the newest. Restock again.
                    Interlocked.Increment(ref lost);
                    i--;
                }
                catch (LockNotAcquiredException)
                {
                    Interlocked.Increment(ref busy);
                    i--;
                }
            }
        })));

        var all = latencies.SelectMany(l => l).Order().ToArray();
        Console.WriteLine(
            $"{client}: {all.Length} restocks in {clock.Elapsed.TotalSeconds:0.0} s; lock+body latency p50 {Percentile(all, 0.50):0.0} ms, " +
            $"p99 {Percentile(all, 0.99):0.0} ms, max {all[^1]:0.0} ms; {lost} leases lost and redone, {busy} waits timed out and retried");
        await host.StopAsync();
        return 0;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
