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
}
