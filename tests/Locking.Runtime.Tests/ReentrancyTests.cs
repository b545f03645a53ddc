namespace Locking.Runtime.Tests;

[Collection(RedisCollection.Name)]
public sealed class ReentrancyTests(RedisFixture redis)
{
    [Fact]
    public async Task Acquiring_a_key_the_flow_holds_throws_at_once()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("reentrant");
        await using var outer = await provider.AcquireAsync(key);

        var error = await Assert.ThrowsAsync<LockRecursionException>(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 30_000)));
        Assert.Contains(key, error.Message);
        // A nested call in a child task of the holder would wait on its parent just the same.
        await Assert.ThrowsAsync<LockRecursionException>(() => Task.Run(async () => await provider.TryAcquireAsync(key)));
        // Another key is fine.
        await using var other = await provider.AcquireAsync(key + "/other");
    }

    [Fact]
    public async Task Sibling_tasks_of_one_flow_wait_for_each_other_instead_of_throwing()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("siblings");
        var inside = 0;
        var overlaps = 0;

        async Task<int> TurnAsync()
        {
            await using var lease = await provider.AcquireAsync(key, TestSupport.Options(waitMs: 10_000));
            if (Interlocked.Increment(ref inside) != 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            await Task.Delay(20);
            Interlocked.Decrement(ref inside);
            return 1;
        }

        var turns = await Task.WhenAll(Task.Run(TurnAsync), Task.Run(TurnAsync), Task.Run(TurnAsync)).Within(10, "three sibling turns");
        Assert.Equal(3, turns.Sum());
        Assert.Equal(0, overlaps);
    }

    [Fact]
    public async Task After_release_the_same_flow_may_acquire_again()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("again");
        var first = await provider.AcquireAsync(key);
        await first.ReleaseAsync();
        await using var second = await provider.AcquireAsync(key);
        Assert.True(second.FencingToken > first.FencingToken);
    }
}
