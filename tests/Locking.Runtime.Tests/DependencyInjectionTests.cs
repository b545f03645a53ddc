using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

[Collection(RedisCollection.Name)]
public sealed class DependencyInjectionTests(RedisFixture redis)
{
    [Fact]
    public async Task UseRedis_with_a_configuration_string_registers_one_provider_that_locks()
    {
        var services = new ServiceCollection().AddLocking(locking => locking.UseRedis(redis.Server.Endpoint));
        await using var container = services.BuildServiceProvider();

        var provider = container.GetRequiredService<ILockProvider>();
        Assert.Same(provider, container.GetRequiredService<ILockProvider>());
        Assert.Same(provider, container.GetRequiredService<RedisLockProvider>());
        var key = RedisFixture.UniqueKey("di");
        await using var lease = await provider.AcquireAsync(key);
        Assert.True(await redis.Database.KeyExistsAsync("lock:{" + key + "}"));
    }

    [Fact]
    public async Task Options_and_the_connection_bind_from_the_Locking_Redis_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Locking:Redis:Configuration"] = redis.Server.Endpoint,
            ["Locking:Redis:KeyPrefix"] = "app:locks:",
            ["Locking:Redis:StoreTimeout"] = "00:00:03",
            ["Locking:Redis:FencingCounterRetention"] = "00:05:00",
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLocking(locking => locking.UseRedis());
        await using var container = services.BuildServiceProvider();

        var provider = container.GetRequiredService<RedisLockProvider>();
        Assert.Equal("app:locks:", provider.Options.KeyPrefix);
        Assert.Equal(TimeSpan.FromSeconds(3), provider.Options.StoreTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), provider.Options.FencingCounterRetention);
        var key = RedisFixture.UniqueKey("bound");
        await using var lease = await provider.AcquireAsync(key);
        Assert.True(await redis.Database.KeyExistsAsync("app:locks:{" + key + "}"));
    }

    [Fact]
    public async Task The_configure_function_adjusts_the_bound_options()
    {
        var services = new ServiceCollection()
            .AddLocking(locking => locking.UseRedis(redis.Server.Endpoint, options => options with { KeyPrefix = "tuned:" }));
        await using var container = services.BuildServiceProvider();
        Assert.Equal("tuned:", container.GetRequiredService<RedisLockProvider>().Options.KeyPrefix);
    }

    [Fact]
    public async Task A_registered_connection_is_reused()
    {
        var services = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(redis.Connection)
            .AddLocking(locking => locking.UseRedis());
        await using (var container = services.BuildServiceProvider())
        {
            var provider = container.GetRequiredService<ILockProvider>();
            await using var lease = await provider.AcquireAsync(RedisFixture.UniqueKey("shared-connection"));
        }

        // The container did not own the shared connection, so it did not close it.
        Assert.True(redis.Connection.IsConnected);
    }

    [Fact]
    public void Bad_configuration_is_reported_clearly()
    {
        var noStore = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddLocking(_ => { }));
        Assert.Contains("UseRedis", noStore.Message);

        using var noConnection = new ServiceCollection().AddLocking(locking => locking.UseRedis()).BuildServiceProvider();
        var missing = Assert.Throws<InvalidOperationException>(() => noConnection.GetRequiredService<ILockProvider>());
        Assert.Contains("Locking:Redis:Configuration", missing.Message);

        Assert.Equal("configuration", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddLocking(locking => locking.UseRedis("  "))).ParamName);

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Locking:Redis:KeyPrefix"] = "bad{prefix}",
        }).Build();
        using var badPrefix = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLocking(locking => locking.UseRedis(redis.Server.Endpoint))
            .BuildServiceProvider();
        var invalid = Assert.Throws<ArgumentException>(() => badPrefix.GetRequiredService<ILockProvider>());
        Assert.Equal("KeyPrefix", invalid.ParamName);
        Assert.Contains("bad{prefix}", invalid.Message);
    }
}
