using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Locking.FaultTests.Processes;

/// <summary>
/// A silo process, as in samples/Locking.Cluster: Redis membership, Redis grain storage for the lock grains (a silo
/// that dies takes no lease record with it), and failure detection tuned to declare a killed silo dead in seconds.
/// </summary>
internal static class SiloProgram
{
    public const string LockStorage = "locks";

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var redis = WorkerStore.SteadyRedisConfiguration(arguments.Text("redis"));
        var cluster = arguments.Text("cluster");
        var siloPort = arguments.Number("silo-port");
        var gatewayPort = arguments.Number("gateway-port");

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        builder.UseOrleans(silo => silo
            .Configure<ClusterOptions>(options => (options.ClusterId, options.ServiceId) = (cluster, cluster))
            .Configure<ClusterMembershipOptions>(options =>
            {
                options.ProbeTimeout = TimeSpan.FromSeconds(1);
                options.NumMissedProbesLimit = 2;
                options.NumVotesForDeathDeclaration = 1;
                options.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
            })
            .ConfigureEndpoints(System.Net.IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false)
            .UseRedisClustering(options => options.ConfigurationOptions = redis)
            .AddRedisGrainStorage(LockStorage, options => options.ConfigurationOptions = redis)
            .AddLockGrains(LockStorage));

        using var host = builder.Build();
        await host.StartAsync();
        Console.Out.WriteLine($"ready {siloPort}");
        Console.Out.Flush();
        // Ends when the test closes stdin (or kills the process, which is the point).
        await Console.In.ReadToEndAsync();
        await host.StopAsync();
        return 0;
    }
}
