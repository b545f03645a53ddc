using System.Diagnostics;

namespace Locking.Runtime.Tests;

[Collection(RedisCollection.Name)]
public sealed class WaitingTests(RedisFixture redis)
{
    [Fact]
    public async Task A_release_in_another_process_wakes_the_waiter_without_polling()
    {
        await using var otherConnection = await redis.Server.ConnectAsync();
        await using var holderSide = new RedisLockProvider(otherConnection);
        await using var waiterSide = redis.Provider();
        var key = RedisFixture.UniqueKey("handoff");
        var held = await holderSide.AcquireAsync(key, TestSupport.Options(ttlMs: 30_000));

        var attemptsBefore = waiterSide.AcquireAttempts;
        var stopwatch = Stopwatch.StartNew();
        var waiting = TestSupport.Elsewhere(async () => await waiterSide.AcquireAsync(key, TestSupport.Options(waitMs: 20_000)));
        await Task.Delay(300); // let the waiter look once and go to sleep on the holder's 30 s TTL
        Assert.False(waiting.IsCompleted);
        await held.ReleaseAsync();

        await using var lease = await waiting.Within(5, "the handoff");
        stopwatch.Stop();
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"The waiter took {stopwatch.Elapsed} (the holder's TTL was 30 s).");
        Assert.InRange(waiterSide.AcquireAttempts - attemptsBefore, 2, 3); // one that found the key busy, one after the notice
        Assert.True(lease.FencingToken > held.FencingToken);
    }

    [Fact]
    public async Task A_release_in_this_process_hands_over_to_the_next_local_waiter_in_order()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("fifo");
        var holder = await provider.AcquireAsync(key);
        var order = new List<int>();
        var waiters = new List<Task>();
        for (var i = 0; i < 5; i++)
        {
            var number = i;
            waiters.Add(TestSupport.Elsewhere(async () =>
            {
                await using var lease = await provider.AcquireAsync(key, TestSupport.Options(waitMs: 20_000));
                lock (order)
                {
                    order.Add(number);
                }

                return 0;
            }));
            await TestSupport.WaitUntilQueuedAsync(provider, key, i + 1);
        }

        var attemptsBefore = provider.AcquireAttempts;
        await holder.ReleaseAsync();
        await Task.WhenAll(waiters).Within(5, "five handoffs");

        Assert.Equal([0, 1, 2, 3, 4], order);
        // One acquire per handoff, plus at most one that finds a lease of this process just taken.
        Assert.InRange(provider.AcquireAttempts - attemptsBefore, 5, 7);
    }

    [Fact]
    public async Task A_new_local_acquirer_does_not_barge_ahead_of_waiters()
    {
        await using var otherConnection = await redis.Server.ConnectAsync();
        await using var elsewhere = new RedisLockProvider(otherConnection);
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("no-barging");
        await elsewhere.AcquireAsync(key, TestSupport.Options(ttlMs: 30_000));
        using var giveUp = new CancellationTokenSource();
        var waiter = TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 30_000), giveUp.Token));
        await TestSupport.WaitUntilQueuedAsync(provider, key, 1);

        // The key frees up without a notice (as on expiry): the waiter sleeps on, the key is free in Redis.
        Assert.True(await redis.Database.KeyDeleteAsync(provider.Keyspace.LockKey(key)));
        var attemptsBefore = provider.AcquireAttempts;
        var newcomer = await TestSupport.Elsewhere(async () => await provider.TryAcquireAsync(key, TestSupport.Options(waitMs: 0)));

        Assert.Null(newcomer); // it queued behind the waiter instead of taking the free key
        Assert.Equal(attemptsBefore, provider.AcquireAttempts);
        Assert.Equal(1, provider.Waiters.Count(provider.Keyspace.LockKey(key)));
        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
    }

    [Fact]
    public async Task Cancelling_a_wait_leaks_no_lease_and_no_waiter()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("cancelled");
        var holder = await provider.AcquireAsync(key);
        using var cancel = new CancellationTokenSource();
        var waiting = TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 30_000), cancel.Token));
        await TestSupport.WaitUntilQueuedAsync(provider, key, 1);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting).Within(5, "the cancelled wait");
        Assert.False(provider.Waiters.HasWaiters(provider.Keyspace.LockKey(key)));

        await holder.ReleaseAsync();
        await using var next = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 0)));
        Assert.True(next.FencingToken > holder.FencingToken);
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

        // An acquire granted after its caller gave up is released by a continuation: give it a moment to land.
        var free = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 2_000)));
        Assert.False(free.IsLost);
        await free.ReleaseAsync();
    }

    [Fact]
    public async Task A_holder_that_never_releases_is_detected_by_its_ttl()
    {
        await using var otherConnection = await redis.Server.ConnectAsync();
        var crashed = new RedisLockProvider(otherConnection);
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("crashed-holder");
        await crashed.AcquireAsync(key, TestSupport.Options(ttlMs: 500, renew: false));
        await otherConnection.CloseAsync(); // the holder is gone without a release

        var stopwatch = Stopwatch.StartNew();
        await using var lease = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 5_000)));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"The waiter took {stopwatch.Elapsed} for a 500 ms TTL.");
        Assert.InRange(provider.AcquireAttempts, 2, 3);
        await crashed.DisposeAsync();
    }

    [Fact]
    public async Task Wait_zero_tries_once_and_a_finite_wait_gives_up()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("busy");
        await using var holder = await provider.AcquireAsync(key);

        var once = await TestSupport.Elsewhere(async () => await provider.TryAcquireAsync(key, TestSupport.Options(waitMs: 0)));
        Assert.Null(once);
        Assert.Equal(2, provider.AcquireAttempts);

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<LockNotAcquiredException>(
            () => TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 300))));
        Assert.Equal(key, error.Key);
        Assert.True(error.Waited >= TimeSpan.FromMilliseconds(300));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3));
    }
}
