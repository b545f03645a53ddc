using StackExchange.Redis;

namespace Locking.Runtime.Tests;

[Collection(RedisCollection.Name)]
public sealed class ArgumentTests(RedisFixture redis)
{
    public static TheoryData<string> BlankKeys => new() { "", " ", "\t\n" };

    [Theory]
    [MemberData(nameof(BlankKeys))]
    public async Task A_blank_key_is_refused(string key)
    {
        await using var provider = redis.Provider();
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await provider.AcquireAsync(key));
        Assert.Equal("key", error.ParamName);
    }

    [Fact]
    public async Task A_null_key_is_refused()
    {
        await using var provider = redis.Provider();
        var error = await Assert.ThrowsAsync<ArgumentNullException>(async () => await provider.TryAcquireAsync(null!));
        Assert.Equal("key", error.ParamName);
    }

    [Fact]
    public async Task A_key_with_an_unpaired_surrogate_is_refused_with_its_position()
    {
        // Not a theory: attribute arguments and xunit's case serialization both go through UTF-8, which would replace
        // the lone halves before the test saw them.
        (string Key, int Position)[] cases = [("orders/\uD800", 7), ("orders/\uDC00x", 7), ("\uDBFF\uDBFF\uDC00", 0)];
        await using var provider = redis.Provider();
        foreach (var (key, position) in cases)
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(async () => await provider.AcquireAsync(key));
            Assert.Equal("key", error.ParamName);
            Assert.Contains($"at index {position}", error.Message);
        }
    }

    [Fact]
    public async Task A_key_with_paired_surrogates_is_taken_and_kept_apart_from_its_neighbours()
    {
        await using var provider = redis.Provider();
        await using var emoji = await provider.AcquireAsync("orders/\U0001F600");
        // Both encode to distinct UTF-8: the second is free although the first is held.
        var other = await provider.TryAcquireAsync("orders/\U0001F601", TestSupport.Options(waitMs: 0));
        Assert.NotNull(other);
        await other.DisposeAsync();
    }

    [Fact]
    public async Task A_key_over_1_KB_of_UTF8_is_refused_and_one_of_exactly_1_KB_is_taken()
    {
        await using var provider = redis.Provider();
        var tooLong = new string('é', 513); // 1026 UTF-8 bytes in 513 characters
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await provider.AcquireAsync(tooLong));
        Assert.Equal("key", error.ParamName);
        Assert.Contains("1026", error.Message);

        await using var longest = await provider.AcquireAsync(new string('k', 1024));
        Assert.True(longest.FencingToken > 0);
    }

    public static TheoryData<int, string> BadTtls => new()
    {
        { 0, "Ttl" }, { -1, "Ttl" }, { 24 * 3600 * 1000 + 1, "Ttl" },
    };

    [Theory]
    [MemberData(nameof(BadTtls))]
    public async Task A_ttl_that_is_not_positive_or_over_a_day_is_refused(int ttlMs, string parameter)
    {
        await using var provider = redis.Provider();
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await provider.AcquireAsync(RedisFixture.UniqueKey("ttl"), new LockOptions { Ttl = TimeSpan.FromMilliseconds(ttlMs) }));
        Assert.Equal(parameter, error.ParamName);
        Assert.Equal(TimeSpan.FromMilliseconds(ttlMs), error.ActualValue);
    }

    [Fact]
    public async Task A_negative_wait_other_than_infinite_is_refused()
    {
        await using var provider = redis.Provider();
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await provider.AcquireAsync(RedisFixture.UniqueKey("wait"), new LockOptions { Wait = TimeSpan.FromMilliseconds(-2) }));
        Assert.Equal("Wait", error.ParamName);

        await using var infinite = await provider.AcquireAsync(RedisFixture.UniqueKey("wait"), new LockOptions { Wait = Timeout.InfiniteTimeSpan });
        Assert.True(infinite.FencingToken > 0);
    }

    public static TheoryData<RedisLockProviderOptions, string> BadOptions => new()
    {
        { new RedisLockProviderOptions { KeyPrefix = null! }, "KeyPrefix" },
        { new RedisLockProviderOptions { KeyPrefix = "app:{locks}:" }, "KeyPrefix" },
        { new RedisLockProviderOptions { KeyPrefix = new string('p', 257) }, "KeyPrefix" },
        { new RedisLockProviderOptions { Database = -2 }, "Database" },
        { new RedisLockProviderOptions { StoreTimeout = TimeSpan.Zero }, "StoreTimeout" },
        { new RedisLockProviderOptions { StoreTimeout = TimeSpan.FromMinutes(6) }, "StoreTimeout" },
        { new RedisLockProviderOptions { FencingCounterRetention = TimeSpan.FromMilliseconds(999) }, "FencingCounterRetention" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_provider_options_are_refused_naming_the_option(RedisLockProviderOptions options, string name)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new RedisLockProvider(redis.Connection, options));
        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public void Bad_connections_are_refused()
    {
        Assert.Equal("connection", Assert.Throws<ArgumentNullException>(() => new RedisLockProvider((IConnectionMultiplexer)null!)).ParamName);
        Assert.Equal("independentMasters", Assert.Throws<ArgumentException>(() => new RedisLockProvider(Array.Empty<IConnectionMultiplexer>())).ParamName);
        Assert.Equal("independentMasters", Assert.Throws<ArgumentException>(() => new RedisLockProvider(new IConnectionMultiplexer[] { redis.Connection, null! })).ParamName);
        var duplicate = Assert.Throws<ArgumentException>(() => new RedisLockProvider(new IConnectionMultiplexer[] { redis.Connection, redis.Connection }));
        Assert.Contains("same object", duplicate.Message);
    }
}
