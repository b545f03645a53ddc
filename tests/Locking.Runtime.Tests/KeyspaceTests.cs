namespace Locking.Runtime.Tests;

[Collection(RedisCollection.Name)]
public sealed class KeyspaceTests(RedisFixture redis)
{
    private static readonly string[] s_awkwardKeys =
    [
        "orders/{42}", "}{", "a b c", "line\nbreak", "tab\there", "ключ/日本語/🔒", @"back\slash", @"a\(b", "a{b",
    ];

    public static TheoryData<string> AwkwardKeys => new(s_awkwardKeys);

    [Theory]
    [MemberData(nameof(AwkwardKeys))]
    public async Task Any_key_text_locks_and_keeps_its_counter_in_the_lease_slot(string key)
    {
        await using var provider = redis.Provider();
        var unique = key + "/" + Guid.NewGuid().ToString("N");
        await using var lease = await provider.AcquireAsync(unique);

        var lockKey = provider.Keyspace.LockKey(unique);
        Assert.True(await redis.Database.KeyExistsAsync(lockKey));
        Assert.Equal(redis.Connection.GetHashSlot(lockKey), redis.Connection.GetHashSlot(RedisKeyspace.FenceKey(lockKey)));
        var busy = await TestSupport.Elsewhere(async () => await provider.TryAcquireAsync(unique, TestSupport.Options(waitMs: 0)));
        Assert.Null(busy);
    }

    [Fact]
    public void Distinct_keys_never_share_a_redis_key()
    {
        var keyspace = new RedisKeyspace("lock:");
        var keys = s_awkwardKeys.Concat([@"a\\(b", @"a\)b", "a}b", "orders/42", "orders/42}"]).ToList();
        var mapped = keys.Select(keyspace.LockKey).ToList();
        Assert.Equal(keys.Count, mapped.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal("lock:{orders/42}", keyspace.LockKey("orders/42"));
        Assert.Equal(@"lock:{a\(b}", keyspace.LockKey("a{b"));
        Assert.Equal(@"lock:{a\\(b}", keyspace.LockKey(@"a\(b"));
        Assert.All(mapped, lockKey => Assert.Equal(lockKey.Length - 1, lockKey.IndexOf('}', StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Scripts_flushed_from_the_server_are_sent_again()
    {
        await using var server = await Locking.Testing.RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync();
        await using var provider = new RedisLockProvider(connection);
        var first = await provider.AcquireAsync("flushed-scripts");
        await first.ReleaseAsync();

        await connection.GetDatabase().ExecuteAsync("SCRIPT", "FLUSH");

        await using var second = await provider.AcquireAsync("flushed-scripts");
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.True(await second.RenewAsync());
    }
}
