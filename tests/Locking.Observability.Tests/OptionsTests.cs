using Locking.Testing;

namespace Locking.Observability.Tests;

/// <summary>The messages a user reads when the options of an acquire cannot work.</summary>
public sealed class OptionsTests
{
    [Fact]
    public async Task A_ttl_below_the_minimum_is_refused_saying_why()
    {
        await using var redis = await RedisServer.StartAsync();
        using var connection = await redis.ConnectAsync();
        await using var locks = new RedisLockProvider(connection);

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            async () => await locks.AcquireAsync("short", new LockOptions { Ttl = TimeSpan.FromMilliseconds(1) }));

        Assert.Equal("Ttl", error.ParamName);
        Assert.Contains("at least 100 ms (LockOptions.MinTtl)", error.Message, StringComparison.Ordinal);
        Assert.Contains("1 % of the Ttl plus 10 ms", error.Message, StringComparison.Ordinal);
        await using var shortest = await locks.AcquireAsync("short", new LockOptions { Ttl = LockOptions.MinTtl });
        Assert.True(shortest.FencingToken > 0);
    }

    [Fact]
    public async Task Only_the_infinite_timespan_is_a_negative_wait()
    {
        await using var redis = await RedisServer.StartAsync();
        using var connection = await redis.ConnectAsync();
        await using var locks = new RedisLockProvider(connection);

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            async () => await locks.AcquireAsync("wait", new LockOptions { Wait = TimeSpan.FromMilliseconds(-2) }));

        Assert.Equal("Wait", error.ParamName);
        Assert.Contains("Timeout.InfiniteTimeSpan", error.Message, StringComparison.Ordinal);
        await using var infinite = await locks.AcquireAsync("wait", new LockOptions { Wait = Timeout.InfiniteTimeSpan });
        Assert.True(infinite.FencingToken > 0);
    }
}
