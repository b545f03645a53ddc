using Locking.Testing;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

public sealed class FencingTests
{
    [Fact]
    public async Task Tokens_increase_across_holders_flushall_and_a_restart_that_lost_the_data()
    {
        await using var server = await RedisServer.StartAsync(persistent: false);
        var configuration = server.Configuration();
        configuration.AllowAdmin = true;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        await using var provider = new RedisLockProvider(connection);
        const string key = "orders/42";
        var tokens = new List<long>();

        async Task TakeTurnAsync()
        {
            await using var lease = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 10_000)));
            tokens.Add(lease.FencingToken);
        }

        for (var i = 0; i < 5; i++)
        {
            await TakeTurnAsync();
        }

        await connection.GetServer(server.Endpoint).FlushAllDatabasesAsync();
        await TakeTurnAsync();
        await TakeTurnAsync();

        await server.RestartAsync();
        Assert.Equal(0L, (long)await connection.GetDatabase().ExecuteAsync("DBSIZE")); // the restart lost everything
        await TakeTurnAsync();
        await TakeTurnAsync();

        Assert.Equal(9, tokens.Count);
        for (var i = 1; i < tokens.Count; i++)
        {
            Assert.True(tokens[i] > tokens[i - 1], $"Token {i} ({tokens[i]}) is not above token {i - 1} ({tokens[i - 1]}): {string.Join(", ", tokens)}");
        }
    }

    [Fact]
    public async Task A_counter_ahead_of_the_clock_still_yields_a_larger_token()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync();
        await using var provider = new RedisLockProvider(connection);
        var lockKey = provider.Keyspace.LockKey("ahead");
        var farAhead = 9_000_000_000_000_000L; // well past the server clock in microseconds
        await connection.GetDatabase().StringSetAsync(RedisKeyspace.FenceKey(lockKey), farAhead, TimeSpan.FromMinutes(1));

        await using var lease = await provider.AcquireAsync("ahead");

        Assert.Equal(farAhead + 1, lease.FencingToken);
    }

    [Fact]
    public async Task No_key_is_left_without_an_expiry_after_many_distinct_locks()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync();
        await using var provider = new RedisLockProvider(connection, new RedisLockProviderOptions { FencingCounterRetention = TimeSpan.FromSeconds(5) });
        for (var i = 0; i < 200; i++)
        {
            var key = $"distinct/{i}";
            await TestSupport.Elsewhere(async () =>
            {
                await using var lease = await provider.AcquireAsync(key, TestSupport.Options(ttlMs: 2_000));
                return lease.FencingToken;
            });
        }

        var database = connection.GetDatabase();
        var keys = connection.GetServer(server.Endpoint).Keys(pattern: "*").ToList();
        Assert.Equal(200, keys.Count); // the counters; every lease was released
        foreach (var key in keys)
        {
            var ttl = await database.KeyTimeToLiveAsync(key);
            Assert.True(ttl is { } left && left <= TimeSpan.FromSeconds(7), $"{key} expires in {ttl?.ToString() ?? "never"}.");
        }
    }
}
