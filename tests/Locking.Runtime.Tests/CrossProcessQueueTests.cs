using Locking.Testing;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

/// <summary>
/// The Redis wait queue with waiters in separate processes, each on its own connection: order, hand-off and the
/// faults of a waiter or holder process (SIGKILL, SIGSTOP) and of the server. Every test decides on the order of
/// events (who was queued, who got the key, which tokens), and its time bounds only catch a hang.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class CrossProcessQueueTests(RedisFixture redis)
{
    [Fact]
    public async Task Waiters_in_separate_processes_get_the_key_in_the_order_they_queued()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("process-fifo");
        var held = await provider.AcquireAsync(key);
        var waiters = new List<LockProcess>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                waiters.Add(LockProcess.Wait(redis.Server.Endpoint, key, $"p{i}", ttlMs: 10_000, waitMs: 120_000, queuedWaiterTimeoutMs: 60_000, holdMs: 20));
                await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, i + 1);
            }

            await held.ReleaseAsync();
            foreach (var waiter in waiters)
            {
                Assert.True(await waiter.ExitAsync() == 0, waiter.Output);
            }

            var order = await OrderAsync(key);
            Assert.Equal(["p0", "p1", "p2", "p3"], order.Select(entry => entry.Name));
            AssertTokensRise(held.FencingToken, order);
        }
        finally
        {
            waiters.ForEach(waiter => waiter.Dispose());
        }
    }

    [Fact]
    public async Task A_killed_waiter_process_holds_up_the_queue_no_longer_than_its_place_and_a_lease_live()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("killed-waiter");
        var held = await provider.AcquireAsync(key);
        // The dead waiter's place lives 1 s without a refresh; had it been granted the key just before, its lease 1 s.
        using var dead = LockProcess.Wait(redis.Server.Endpoint, key, "dead", ttlMs: 1_000, waitMs: 120_000, queuedWaiterTimeoutMs: 1_000, holdMs: 60_000);
        await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, 1);
        using var next = LockProcess.Wait(redis.Server.Endpoint, key, "next", ttlMs: 10_000, waitMs: 120_000, queuedWaiterTimeoutMs: 60_000, holdMs: 20);
        await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, 2);

        dead.Kill();
        await held.ReleaseAsync();

        Assert.True(await next.ExitAsync() == 0, next.Output);
        var order = await OrderAsync(key);
        Assert.Equal(["next"], order.Select(entry => entry.Name));
        AssertTokensRise(held.FencingToken, order);
        Assert.Equal(0, await TestSupport.QueuedAsync(provider, redis.Database, key));
    }

    [Fact]
    public async Task A_paused_waiter_process_is_passed_over_and_queues_again_when_it_resumes()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("paused-waiter");
        var held = await provider.AcquireAsync(key);
        using var paused = LockProvider_Wait("paused");
        await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, 1);
        using var next = LockProvider_Wait("next");
        await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, 2);

        paused.Pause();
        await held.ReleaseAsync();
        Assert.True(await next.ExitAsync() == 0, next.Output);

        // Frozen while its place expired (and perhaps while the key was granted to it and expired again): once it runs
        // again it must not take a stale grant for its own, and gets the key after the one that was served meanwhile.
        paused.Resume();
        Assert.True(await paused.ExitAsync() == 0, paused.Output);
        var order = await OrderAsync(key);
        Assert.Equal(["next", "paused"], order.Select(entry => entry.Name));
        AssertTokensRise(held.FencingToken, order);

        LockProcess LockProvider_Wait(string name)
            => LockProcess.Wait(redis.Server.Endpoint, key, name, ttlMs: 1_000, waitMs: 120_000, queuedWaiterTimeoutMs: 1_000, holdMs: 20);
    }

    [Fact]
    public async Task A_killed_holder_process_hands_over_to_the_first_waiter_by_its_ttl_without_polling()
    {
        await using var provider = redis.Provider(new RedisLockProviderOptions { QueuedWaiterTimeout = TimeSpan.FromMinutes(10) });
        var key = RedisFixture.UniqueKey("killed-holder");
        using var holder = LockProcess.Hold(redis.Server.Endpoint, key, ttlMs: 1_000);
        var heldToken = long.Parse((await holder.LineAsync("held "))["held ".Length..]);
        var first = TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 120_000)));
        await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, 1);
        var second = TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 120_000)));
        await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, 2);

        holder.Kill();
        var lease = await first.Within(60, "the first waiter's grant");
        Assert.True(lease.FencingToken > heldToken);
        Assert.False(second.IsCompleted);
        await lease.ReleaseAsync();
        await using var after = await second.Within(60, "the second waiter's grant");
        Assert.True(after.FencingToken > lease.FencingToken);
        // Per waiter: the request that queued it, at most one look once subscribed, and looks when the holder's
        // TTL ended (the holder renewed while it lived, so each look found a later end); never a polling loop.
        Assert.InRange(provider.AcquireAttempts, 2, 12);
    }

    [Fact]
    public async Task Waiters_of_a_server_restarted_empty_each_get_the_key_or_fail_and_none_hangs()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync();
        await using var provider = new RedisLockProvider(connection);
        var key = RedisFixture.UniqueKey("restarted");
        var held = await provider.AcquireAsync(key, TestSupport.Options(ttlMs: 3_000));
        var waiters = new List<LockProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                waiters.Add(LockProcess.Wait(server.Endpoint, key, $"p{i}", ttlMs: 3_000, waitMs: 20_000, queuedWaiterTimeoutMs: 1_000, holdMs: 20));
                await TestSupport.WaitUntilQueuedAsync(provider, connection.GetDatabase(), key, i + 1);
            }

            await server.RestartAsync();

            // The holder finds out: its renewal finds no lease, or its validity runs out unconfirmed.
            await TestSupport.WhenCancelled(held.LostToken).Within(30, "the holder's loss");
            var exits = new List<int>();
            foreach (var waiter in waiters)
            {
                var exit = await waiter.ExitAsync(60);
                Assert.True(exit is 0 or 3 or 4, $"exit {exit}: {waiter.Output}");
                exits.Add(exit);
            }

            // What was granted after the restart was granted one at a time, with tokens that still rise.
            var order = await OrderAsync(key, connection.GetDatabase());
            Assert.Equal(exits.Count(exit => exit == 0), order.Count);
            AssertTokensRise(held.FencingToken, order);
        }
        finally
        {
            waiters.ForEach(waiter => waiter.Dispose());
        }
    }

    private Task<List<(string Name, long Token)>> OrderAsync(string key) => OrderAsync(key, redis.Database);

    private static async Task<List<(string Name, long Token)>> OrderAsync(string key, IDatabase database)
        => [.. (await database.ListRangeAsync(key + ":order")).Select(entry => ((string)entry!).Split(' ')).Select(parts => (parts[0], long.Parse(parts[1])))];

    private static void AssertTokensRise(long after, List<(string Name, long Token)> order)
    {
        foreach (var (name, token) in order)
        {
            Assert.True(token > after, $"{name}'s token {token} is not above {after}.");
            after = token;
        }
    }
}
