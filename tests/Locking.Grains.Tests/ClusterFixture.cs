using Orleans.Hosting;
using Orleans.TestingHost;

namespace Locking.Grains.Tests;

/// <summary>A two-silo cluster with memory lock storage, shared by the tests that kill no silo.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMilliseconds(100);

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The calls the lock grains received.</summary>
    public LockGrainCalls Calls { get; } = new();

    /// <summary>A provider on the cluster's external client.</summary>
    public OrleansLockProvider Provider { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await TestClusters.StartAsync(2, silo =>
        {
            silo.AddLockGrains(options =>
            {
                options.MaxTtl = TimeSpan.FromMinutes(1);
                options.ClockSkew = ClockSkew;

                // Generous: a waiter's place must not expire because a busy machine was slow to send its next call.
                options.RejoinWindow = TimeSpan.FromSeconds(10);
            });

            silo.AddIncomingGrainCallFilter(Calls);

            // Grains that run [Exclusive] methods get the silo's own provider.
            silo.Services.AddLocking(locking => locking.UseOrleans());
        });
        Provider = new OrleansLockProvider(Cluster.Client);
    }

    public async Task DisposeAsync()
    {
        await Provider.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
