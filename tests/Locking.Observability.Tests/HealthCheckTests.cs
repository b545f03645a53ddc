using Locking.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.TestingHost;

namespace Locking.Observability.Tests;

/// <summary><c>services.AddHealthChecks().AddLocking()</c> against real stores.</summary>
public sealed class HealthCheckTests
{
    private static ServiceProvider Services(Action<LockingBuilder> store)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLocking(store);
        services.AddHealthChecks().AddLocking();
        return services.BuildServiceProvider();
    }

    private static async Task<HealthReportEntry> CheckAsync(IServiceProvider services)
    {
        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries[LockingHealthChecksBuilderExtensions.DefaultName];
    }

    [Fact]
    public async Task Redis_that_answers_is_healthy_with_its_round_trip_time()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var services = Services(locking => locking.UseRedis(redis.Configuration().ToString()));

        var entry = await CheckAsync(services);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("redis", entry.Data["store"]);
        Assert.True((double)entry.Data["round_trip_ms"] >= 0);
        Assert.StartsWith("Redis answered in ", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redis_that_is_gone_is_unhealthy_and_says_so()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var services = Services(locking => locking.UseRedis(redis.Configuration().ToString()));
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(services)).Status);

        redis.Kill();
        var entry = await CheckAsync(services);

        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.StartsWith("Redis did not answer", entry.Description, StringComparison.Ordinal);
        Assert.False(entry.Data.ContainsKey("round_trip_ms"));
    }

    [Fact]
    public async Task Redlock_with_one_master_of_three_gone_is_degraded_and_with_two_unhealthy()
    {
        await using var a = await RedisServer.StartAsync();
        await using var b = await RedisServer.StartAsync();
        await using var c = await RedisServer.StartAsync();
        var connections = new[] { await a.ConnectAsync(), await b.ConnectAsync(), await c.ConnectAsync() };
        try
        {
            await using var services = Services(locking => locking.UseProvider(_ => new RedisLockProvider(connections)));
            Assert.Equal(HealthStatus.Healthy, (await CheckAsync(services)).Status);

            c.Kill();
            var degraded = await CheckAsync(services);
            Assert.Equal(HealthStatus.Degraded, degraded.Status);
            Assert.Equal(2, degraded.Data["answered"]);

            b.Kill();
            var unhealthy = await CheckAsync(services);
            Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
            Assert.Contains("leases need 2", unhealthy.Description, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Orleans_lock_grains_that_answer_are_healthy_with_the_round_trip_time()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddLockGrains();
            silo.Services.AddLocking(locking => locking.UseOrleans());
            silo.Services.AddHealthChecks().AddLocking();
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();

        var entry = await CheckAsync(cluster.Silos[0].ServiceProvider);

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal("orleans", entry.Data["store"]);
        Assert.True((double)entry.Data["round_trip_ms"] >= 0);
        Assert.StartsWith("Orleans lock grains answered in ", entry.Description, StringComparison.Ordinal);
    }
}
