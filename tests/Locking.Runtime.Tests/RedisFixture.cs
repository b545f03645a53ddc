using Locking.Testing;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

/// <summary>One redis-server shared by the tests that neither stop nor flush it; each test uses keys of its own.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;
    private ConnectionMultiplexer? _connection;

    public RedisServer Server => _server ?? throw new InvalidOperationException("The fixture has not started.");

    public ConnectionMultiplexer Connection => _connection ?? throw new InvalidOperationException("The fixture has not started.");

    public IDatabase Database => Connection.GetDatabase();

    public async Task InitializeAsync()
    {
        _server = await RedisServer.StartAsync();
        _connection = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A provider on the shared server; dispose it at the end of the test.</summary>
    public RedisLockProvider Provider(RedisLockProviderOptions? options = null, TimeProvider? time = null)
        => new(Connection, options, timeProvider: time);

    /// <summary>
    /// Runs every store operation once, so that the tests with TTLs of a few hundred ms do not count the first
    /// call's JIT compilation and script loading against the lease.
    /// </summary>
    public static async Task WarmUpAsync(RedisLockProvider provider)
    {
        var lease = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(UniqueKey("warm-up")));
        await lease.RenewAsync();
        await lease.ReleaseAsync();
    }

    /// <summary>A key no other test uses.</summary>
    public static string UniqueKey(string name) => $"{name}/{Guid.NewGuid():N}";
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
