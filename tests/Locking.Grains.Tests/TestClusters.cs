using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Locking.Grains.Tests;

/// <summary>In-process Orleans test clusters.</summary>
internal static class TestClusters
{
    /// <summary>
    /// Starts a cluster. A start that fails is tried again, twice at most: on a busy machine a silo's start can fail
    /// in Orleans itself (its status gossip to the other silos times out and the start is cancelled), and starting a
    /// cluster is not what these tests test.
    /// </summary>
    /// <param name="silos">How many silos.</param>
    /// <param name="configureSilo">Configures each silo.</param>
    /// <param name="fastDeathDetection">
    /// Membership tuned so that a killed silo is declared dead in about a second, for tests that kill silos. Off by
    /// default: on a busy machine so eager a detector can declare a live but slow silo dead.
    /// </param>
    public static async Task<InProcessTestCluster> StartAsync(short silos, Action<ISiloBuilder> configureSilo, bool fastDeathDetection = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            var cluster = Build(silos, configureSilo, fastDeathDetection);
            try
            {
                await cluster.DeployAsync();
                return cluster;
            }
            catch (Exception) when (attempt < 3)
            {
                await DisposeQuietlyAsync(cluster);
            }
        }
    }

    private static async Task DisposeQuietlyAsync(InProcessTestCluster cluster)
    {
        try
        {
            await cluster.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception)
        {
            // What is left of a failed start goes with the test process.
        }
    }

    private static InProcessTestCluster Build(short silos, Action<ISiloBuilder> configureSilo, bool fastDeathDetection)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            if (fastDeathDetection)
            {
                silo.Configure<ClusterMembershipOptions>(options =>
                {
                    options.ProbeTimeout = TimeSpan.FromMilliseconds(300);
                    options.NumMissedProbesLimit = 2;
                    options.NumVotesForDeathDeclaration = 1;
                    options.TableRefreshTimeout = TimeSpan.FromMilliseconds(500);
                    options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(1);
                    options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(5);
                });
            }

            configureSilo(silo);
        });
        return builder.Build();
    }

    /// <summary>The silo that hosts <paramref name="grain"/>'s activation now.</summary>
    public static InProcessSiloHandle SiloOf(this InProcessTestCluster cluster, IAddressable grain)
    {
        if (!cluster.TryGetGrainContext(grain.GetGrainId(), out var context))
        {
            throw new InvalidOperationException($"{grain.GetGrainId()} has no activation.");
        }

        return cluster.Silos.Single(silo => silo.SiloAddress.Equals(context.Address.SiloAddress));
    }

    /// <summary>The lock grains' storage as one silo sees it, to tamper with records as a duplicate or a failure would.</summary>
    public static IGrainStorage LockStorage(this InProcessTestCluster cluster)
        => cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(LockGrainOptions.StorageName);
}
