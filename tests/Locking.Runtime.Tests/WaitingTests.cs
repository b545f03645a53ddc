using StackExchange.Redis;

namespace Locking.Runtime.Tests;

[Collection(RedisCollection.Name)]
public sealed class WaitingTests(RedisFixture redis)
{
    /// <summary>Waiters that never refresh their place within a test: every acquire request a test counts is one the design asks for.</summary>
    private static readonly RedisLockProviderOptions NoRefresh = new() { QueuedWaiterTimeout = TimeSpan.FromMinutes(10) };

    [Fact]
    public async Task A_release_in_another_process_hands_the_key_to_the_queued_waiter_without_polling()
    {
        await using var otherConnection = await redis.Server.ConnectAsync();
        await using var holderSide = new RedisLockProvider(otherConnection);
        await using var waiterSide = redis.Provider(NoRefresh);
        var key = RedisFixture.UniqueKey("handoff");
        var held = await holderSide.AcquireAsync(key, TestSupport.Options(ttlMs: 30_000));

        var waiting = TestSupport.Elsewhere(async () => await waiterSide.AcquireAsync(key, TestSupport.Options(ttlMs: 30_000, waitMs: 60_000)));
        await TestSupport.WaitUntilQueuedAsync(waiterSide, redis.Database, key, 1);
        await TestSupport.Until(() => waiterSide.Notices().IsSubscribed(waiterSide.Keyspace.LockKey(key)));
        await held.ReleaseAsync();

        await using var lease = await waiting.Within(20, "the handoff");
        // One request that queued it, one look once its process listened on the key's channel; the grant itself came
        // from the server with the release, not from a request of the waiter (its holder's TTL was 30 s).
        Assert.Equal(2, waiterSide.AcquireAttempts);
        Assert.True(lease.FencingToken > held.FencingToken);
        Assert.Equal(0, await TestSupport.QueuedAsync(waiterSide, redis.Database, key));
    }

    [Fact]
    public async Task Waiters_of_one_process_are_served_in_the_order_they_came_each_by_the_release_before()
    {
        await using var provider = redis.Provider(NoRefresh);
        var key = RedisFixture.UniqueKey("fifo");
        var holder = await provider.AcquireAsync(key);
        var order = new List<(int Number, long Token)>();
        var waiters = new List<Task>();
        for (var i = 0; i < 5; i++)
        {
            var number = i;
            waiters.Add(TestSupport.Elsewhere(async () =>
            {
                await using var lease = await provider.AcquireAsync(key, TestSupport.Options(waitMs: 60_000));
                lock (order)
                {
                    order.Add((number, lease.FencingToken));
                }

                return 0;
            }));
            await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, i + 1);
        }

        await TestSupport.Until(() => provider.Notices().IsSubscribed(provider.Keyspace.LockKey(key)));
        var attemptsBefore = provider.AcquireAttempts;
        await holder.ReleaseAsync();
        await Task.WhenAll(waiters).Within(20, "five handoffs");

        Assert.Equal([0, 1, 2, 3, 4], order.Select(entry => entry.Number));
        Assert.Equal(order.Select(entry => entry.Token).Order(), order.Select(entry => entry.Token));
        Assert.True(order[0].Token > holder.FencingToken);
        // Each release's answer names the next holder in this process: no waiter asks Redis again (at most the first
        // one's look once the channel was subscribed, if it had not been made yet).
        Assert.InRange(provider.AcquireAttempts - attemptsBefore, 0, 1);
    }

    [Fact]
    public async Task A_zero_wait_newcomer_that_finds_the_key_free_hands_it_to_the_first_waiter_instead_of_barging()
    {
        await using var otherConnection = await redis.Server.ConnectAsync();
        await using var elsewhere = new RedisLockProvider(otherConnection);
        await using var provider = redis.Provider(NoRefresh);
        var key = RedisFixture.UniqueKey("no-barging");
        var held = await elsewhere.AcquireAsync(key, TestSupport.Options(ttlMs: 30_000));
        var waiter = TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 60_000)));
        await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, 1);

        // The key frees up without a release (as on expiry): the waiter sleeps on, the key is free in Redis.
        Assert.True(await redis.Database.KeyDeleteAsync(provider.Keyspace.LockKey(key)));
        var newcomer = await TestSupport.Elsewhere(async () => await elsewhere.TryAcquireAsync(key, TestSupport.Options(waitMs: 0)));

        Assert.Null(newcomer);
        await using var lease = await waiter.Within(20, "the grant to the waiter");
        Assert.True(lease.FencingToken > held.FencingToken);
    }

    [Fact]
    public async Task Cancelling_a_wait_leaves_the_queue_and_is_never_granted_later()
    {
        await using var provider = redis.Provider(NoRefresh);
        var key = RedisFixture.UniqueKey("cancelled");
        var holder = await provider.AcquireAsync(key);
        using var cancel = new CancellationTokenSource();
        var waiting = TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 60_000), cancel.Token));
        await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, 1);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting).Within(20, "the cancelled wait");
        await TestSupport.WaitUntilQueuedAsync(provider, redis.Database, key, 0);
        Assert.Equal(0, provider.Notices().Count(provider.Keyspace.LockKey(key)));

        await holder.ReleaseAsync();
        Assert.False(await redis.Database.KeyExistsAsync(provider.Keyspace.LockKey(key)), "The release handed the key to the waiter that gave up.");
        await using var next = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 0)));
        Assert.True(next.FencingToken > holder.FencingToken);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_leaves_the_queue_before_it_returns()
    {
        await using var provider = redis.Provider(NoRefresh);
        var key = RedisFixture.UniqueKey("gave-up");
        await using var holder = await provider.AcquireAsync(key);

        var error = await Assert.ThrowsAsync<LockNotAcquiredException>(
            () => TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 300))));

        Assert.Equal(key, error.Key);
        Assert.True(error.Waited >= TimeSpan.FromMilliseconds(300));
        Assert.Equal(0, await TestSupport.QueuedAsync(provider, redis.Database, key));
    }

    [Fact]
    public async Task Cancelling_acquires_at_random_moments_leaves_the_key_free()
    {
        await using var provider = redis.Provider();
        await RedisFixture.WarmUpAsync(provider);
        var key = RedisFixture.UniqueKey("cancel-race");
        for (var i = 0; i < 80; i++)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromTicks(Random.Shared.Next(0, 20_000)));
            try
            {
                var lease = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(), cancel.Token));
                await lease.ReleaseAsync();
            }
            catch (OperationCanceledException)
            {
                // Cancelled before, during or after the round trip: whatever was granted must be given back.
            }
        }

        // An acquire granted after its caller gave up is released by a continuation: give it time to land.
        var free = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 20_000)));
        Assert.False(free.IsLost);
        await free.ReleaseAsync();
        Assert.Equal(0, await TestSupport.QueuedAsync(provider, redis.Database, key));
    }

    [Fact]
    public async Task A_holder_that_never_releases_is_detected_by_its_ttl()
    {
        await using var otherConnection = await redis.Server.ConnectAsync();
        var crashed = new RedisLockProvider(otherConnection);
        await using var provider = redis.Provider(NoRefresh);
        var key = RedisFixture.UniqueKey("crashed-holder");
        await crashed.AcquireAsync(key, TestSupport.Options(ttlMs: 500, renew: false));
        await otherConnection.CloseAsync(); // the holder is gone without a release

        await using var lease = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 30_000))).Within(30, "the acquire");
        // The request that queued it, at most one look once it listened, and the one when the holder's TTL ran out.
        Assert.InRange(provider.AcquireAttempts, 2, 3);
        await crashed.DisposeAsync();
    }

    [Fact]
    public async Task Wait_zero_tries_once_without_queueing()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("busy");
        await using var holder = await provider.AcquireAsync(key);

        var once = await TestSupport.Elsewhere(async () => await provider.TryAcquireAsync(key, TestSupport.Options(waitMs: 0)));
        Assert.Null(once);
        Assert.Equal(2, provider.AcquireAttempts);
        Assert.Equal(0, await TestSupport.QueuedAsync(provider, redis.Database, key));
    }

    [Fact]
    public async Task Nothing_is_published_when_nobody_waits()
    {
        await using var provider = redis.Provider();
        await RedisFixture.WarmUpAsync(provider);
        var before = await PublishedAsync(redis.Server.Endpoint);
        for (var i = 0; i < 20; i++)
        {
            await using var lease = await provider.AcquireAsync(RedisFixture.UniqueKey("quiet"));
        }

        Assert.Equal(before, await PublishedAsync(redis.Server.Endpoint));
    }

    /// <summary>How many PUBLISH and SPUBLISH commands the server at <paramref name="endpoint"/> ran (also those run by scripts).</summary>
    internal static async Task<long> PublishedAsync(string endpoint)
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { endpoint }, AllowAdmin = true });
        var stats = await admin.GetServer(endpoint).InfoAsync("commandstats");
        long calls = 0;
        foreach (var entry in stats.SelectMany(group => group))
        {
            if (entry.Key is "cmdstat_publish" or "cmdstat_spublish")
            {
                calls += long.Parse(entry.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return calls;
    }
}
