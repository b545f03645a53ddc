using System.Diagnostics;
using Locking.Testing;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;

namespace Locking.Grains.Tests;

/// <summary>Silos killed while a lease is held; each test runs its own three-silo cluster.</summary>
public sealed class SiloFailureTests
{
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);
    private static readonly LockOptions HeldWithoutRenewal = new() { Ttl = Ttl, Renew = false };

    /// <summary>
    /// The next holder's wait, with a TTL as long as the grains allow: a grant whose answer reaches a busy client later
    /// than its TTL is given back and asked for again, which would skip a fencing token.
    /// </summary>
    private static LockOptions WaitLong(TimeSpan maxTtl) => new() { Ttl = maxTtl, Wait = TimeSpan.FromSeconds(40) };

    [Fact]
    public async Task After_the_silo_hosting_the_grain_dies_the_next_holder_gets_the_next_token_once_the_old_lease_ran_out()
    {
        var maxTtl = TimeSpan.FromSeconds(10);
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await TestClusters.StartAsync(3, silo => silo
            .AddRedisGrainStorage("locks", options => options.ConfigurationOptions = redis.Configuration())
            .AddLockGrains("locks", options =>
            {
                options.MaxTtl = maxTtl;
                options.ClockSkew = ClockSkew;
            }), fastDeathDetection: true);
        await using var provider = new OrleansLockProvider(cluster.Client);
        var key = $"orders/{Guid.NewGuid():N}";
        var grain = cluster.Client.GetGrain<ILockGrain>(key);

        var sinceGrant = Stopwatch.StartNew();
        var old = await LockGrainTests.HoldAsync(provider, key, HeldWithoutRenewal);
        await cluster.KillSiloAsync(cluster.SiloOf(grain));

        await using var next = await provider.AcquireAsync(key, WaitLong(maxTtl));

        Assert.Equal(old.FencingToken + 1, next.FencingToken);
        Assert.True(sinceGrant.Elapsed >= Ttl + ClockSkew,
            $"The next holder got the lease {sinceGrant.Elapsed} after the old grant, before its TTL plus the clock skew ({Ttl + ClockSkew}).");
    }

    [Fact]
    public async Task A_memory_record_lost_with_its_silo_neither_restarts_tokens_nor_grants_before_the_lock_delay()
    {
        var lockDelay = Ttl + ClockSkew;
        await using var cluster = await TestClusters.StartAsync(3, silo => silo.AddLockGrains(options =>
        {
            options.MaxTtl = Ttl;
            options.ClockSkew = ClockSkew;
        }), fastDeathDetection: true);
        await using var provider = new OrleansLockProvider(cluster.Client);
        var key = $"orders/{Guid.NewGuid():N}";
        var grain = cluster.Client.GetGrain<ILockGrain>(key);

        var sinceGrant = Stopwatch.StartNew();
        var old = await LockGrainTests.HoldAsync(provider, key, HeldWithoutRenewal);
        var host = cluster.SiloOf(grain);

        // The memory storage partition holding the record dies with a silo: the record is gone.
        var storage = cluster.Silos.First(silo => silo != host).ServiceProvider.GetRequiredKeyedService<IGrainStorage>(LockGrainOptions.StorageName);
        var record = new GrainState<LockRecord>();
        await storage.ReadStateAsync("lock", grain.GetGrainId(), record);
        await storage.ClearStateAsync("lock", grain.GetGrainId(), record);
        await cluster.KillSiloAsync(host);

        await using var next = await provider.AcquireAsync(key, WaitLong(Ttl));

        Assert.True(next.FencingToken > old.FencingToken, $"Tokens restarted: {next.FencingToken} after {old.FencingToken}.");
        Assert.True(sinceGrant.Elapsed >= lockDelay,
            $"A record-less activation granted {sinceGrant.Elapsed} after the old grant, before the lock-delay ({lockDelay}) that outlasts any lost lease.");
    }
}
