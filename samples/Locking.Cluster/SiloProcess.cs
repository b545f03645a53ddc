using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Locking.Cluster;

/// <summary>One silo: Redis membership, Redis grain storage for the lock grains.</summary>
internal static class SiloProcess
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var redis = arguments.Redis;
        var siloPort = arguments.Number("silo-port");
        var gatewayPort = arguments.Number("gateway-port");
        var name = arguments.Text("name", $"silo-{siloPort}");

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Locking", LogLevel.Information);
        builder.UseOrleans(silo => silo
            .Configure<ClusterOptions>(ClusterSettings.Cluster)
            .Configure<ClusterMembershipOptions>(ClusterSettings.Membership)
            .Configure<SiloOptions>(options => options.SiloName = name)
            .ConfigureEndpoints(System.Net.IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false)
            .UseRedisClustering(options => options.ConfigurationOptions = ClusterSettings.Redis(redis))
            .AddRedisGrainStorage(ClusterSettings.LockStorage, options => options.ConfigurationOptions = ClusterSettings.Redis(redis))
            // The lock grains keep their records in Redis: a silo that dies takes no record with it.
            .AddLockGrains(ClusterSettings.LockStorage));

        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine($"{name}: silo ready on 127.0.0.1:{siloPort} (gateway {gatewayPort})");
        await host.WaitForShutdownAsync();
        Console.WriteLine($"{name}: stopped");
        return 0;
    }
}
