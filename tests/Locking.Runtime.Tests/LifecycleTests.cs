using System.Diagnostics;
using Locking.Testing;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

[Collection(RedisCollection.Name)]
public sealed class LifecycleTests(RedisFixture redis)
{
    [Fact]
    public async Task Renewal_keeps_a_lease_alive_past_several_ttls()
    {
        var log = new RecordingLogger();
        await using var provider = new RedisLockProvider(redis.Connection, logger: log);
        await RedisFixture.WarmUpAsync(provider);
        var key = RedisFixture.UniqueKey("renewed");
        var started = Stopwatch.StartNew();
        await using var lease = await provider.AcquireAsync(key, TestSupport.Options(ttlMs: 1_500));

        // Renewals every 0.5 s; a late timer has a second of slack before the lease would end.
        while (started.Elapsed < TimeSpan.FromSeconds(4.5))
        {
            log.Reset(3);
            await log.Next(3).Within(30, "a renewal");
        }

        Assert.False(lease.IsLost);
        Assert.Equal(lease.FencingToken, (await HeldTokenAsync(provider, key)));
        var other = await TestSupport.Elsewhere(async () => await provider.TryAcquireAsync(key, TestSupport.Options(waitMs: 0)));
        Assert.Null(other);
    }

    [Fact]
    public async Task A_lease_without_renewal_expires_and_fires_LostToken()
    {
        await using var provider = redis.Provider();
        await RedisFixture.WarmUpAsync(provider);
        var key = RedisFixture.UniqueKey("expiring");
        var lease = await provider.AcquireAsync(key, TestSupport.Options(ttlMs: 300, renew: false));
        Assert.False(lease.IsLost);

        await TestSupport.WhenCancelled(lease.LostToken).Within(30, "LostToken of an unrenewed 300 ms lease");

        Assert.True(lease.IsLost);
        Assert.False(await lease.RenewAsync());
        // The store let it go too: another owner gets it (after at most the drift margin the holder gave up early).
        await using var next = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 1_000)));
        Assert.True(next.FencingToken > lease.FencingToken);
        await lease.ReleaseAsync(); // owner-checked: must not end the new holder's lease
        Assert.Equal(next.FencingToken, await HeldTokenAsync(provider, key));
    }

    [Fact]
    public async Task A_stopped_server_makes_the_holder_count_its_lease_lost_by_the_ttl()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync(timeoutMs: 5_000);
        await using var provider = new RedisLockProvider(connection);
        await RedisFixture.WarmUpAsync(provider);
        var asked = Stopwatch.StartNew(); // the store's TTL starts later, when the server runs the acquire
        var lease = await provider.AcquireAsync("paused", TestSupport.Options(ttlMs: 1_000));
        server.Pause();
        try
        {
            // However late the timers of a busy machine fire, once the TTL has passed since the acquire was asked for,
            // the holder must not believe it still holds the lease; LostToken follows.
            await Task.Delay(TimeSpan.FromMilliseconds(1_000) - asked.Elapsed is { Ticks: > 0 } left ? left : TimeSpan.Zero);
            Assert.True(lease.IsLost, $"Held {asked.Elapsed.TotalMilliseconds:0} ms after the acquire was asked for; the TTL is 1000 ms.");
            await TestSupport.WhenCancelled(lease.LostToken).Within(30, "LostToken while the server is stopped");
        }
        finally
        {
            server.Resume();
        }
    }

    [Fact]
    public async Task Someone_else_cannot_renew_or_release_a_lease()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("owned");
        await using var lease = await provider.AcquireAsync(key);
        var impostor = new LeaseIdentity(key, Guid.NewGuid(), lease.FencingToken);

        Assert.False(await provider.RenewInStoreAsync(impostor, TimeSpan.FromSeconds(30), CancellationToken.None));
        await provider.ReleaseInStoreAsync(impostor, CancellationToken.None);

        Assert.Equal(lease.FencingToken, await HeldTokenAsync(provider, key));
        Assert.True(await lease.RenewAsync());
    }

    [Fact]
    public async Task Release_is_idempotent_and_dispose_releases()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("dispose");
        var lease = await provider.AcquireAsync(key);
        lease.Dispose();
        await lease.ReleaseAsync();
        Assert.Null(await HeldTokenAsync(provider, key));
        Assert.False(await lease.RenewAsync());
    }

    [Fact]
    public async Task Disposing_the_provider_tells_each_holder_its_lease_is_lost_and_releases_it()
    {
        var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("provider-dispose");
        var lease = await provider.AcquireAsync(key);
        var watched = lease.LostToken;
        var recordWhenTold = new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The callback reads the store when the holder is told: "before or as the record goes".
        using var told = watched.Register(() => recordWhenTold.TrySetResult(null));

        await provider.DisposeAsync();

        Assert.True(watched.IsCancellationRequested, "LostToken had not fired when DisposeAsync returned.");
        Assert.True(lease.IsLost);
        await recordWhenTold.Task.Within(10, "the LostToken callback");
        Assert.Null(await HeldTokenAsync(provider, key));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await provider.AcquireAsync(key));
    }

    [Fact]
    public async Task A_body_that_outlives_its_provider_ends_with_LeaseLostException()
    {
        var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("scope-dispose");
        var lease = await provider.AcquireAsync(key);
        var scope = ExclusiveScope.Enter(lease, CancellationToken.None);
        var body = Task.Delay(Timeout.Infinite, scope.Token);

        await provider.DisposeAsync();

        var stopped = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => body).Within(10, "the body's cancellation");
        Assert.True(scope.IsLeaseLoss(stopped));
        Assert.Throws<LeaseLostException>(scope.ThrowIfLost);
        await scope.DisposeAsync();
    }

    [Fact]
    public async Task A_release_to_a_server_that_does_not_answer_holds_the_caller_no_longer_than_the_store_timeout()
    {
        await using var server = await RedisServer.StartAsync();
        // The connection itself would wait 30 s for an answer; the provider's bound on a store call is 300 ms.
        await using var connection = await server.ConnectAsync(timeoutMs: 30_000);
        await using var provider = new RedisLockProvider(connection, new RedisLockProviderOptions { StoreTimeout = TimeSpan.FromMilliseconds(300) });
        await RedisFixture.WarmUpAsync(provider);
        var lease = await provider.AcquireAsync("unanswered-release", TestSupport.Options(ttlMs: 60_000));
        server.Pause();
        try
        {
            var released = Stopwatch.StartNew();
            await lease.ReleaseAsync().AsTask().Within(10, "the release to a stopped server");
            Assert.True(released.Elapsed < TimeSpan.FromSeconds(10));
        }
        finally
        {
            server.Resume();
        }
    }

    [Fact]
    public async Task Releasing_a_lease_that_is_already_lost_does_not_wait_for_the_store()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync(timeoutMs: 30_000);
        await using var provider = new RedisLockProvider(connection, new RedisLockProviderOptions { StoreTimeout = TimeSpan.FromSeconds(30) });
        await RedisFixture.WarmUpAsync(provider);
        var lease = await provider.AcquireAsync("lost-release", TestSupport.Options(ttlMs: 500));
        server.Pause();
        try
        {
            await TestSupport.WhenCancelled(lease.LostToken).Within(30, "the loss while the server is stopped");
            // Both the connection and the provider would wait 30 s for the stopped server; a lost lease is not worth it.
            await lease.ReleaseAsync().AsTask().Within(10, "the release of a lost lease");
        }
        finally
        {
            server.Resume();
        }
    }

    [Fact]
    public async Task On_a_fake_clock_an_unrenewed_lease_is_lost_exactly_at_ttl_less_the_drift_margin()
    {
        var time = new FakeTimeProvider();
        await using var provider = redis.Provider(time: time);
        var lease = await provider.AcquireAsync(RedisFixture.UniqueKey("fake-expiry"), TestSupport.Options(ttlMs: 10_000, renew: false));
        var safe = TimeSpan.FromSeconds(10) - ManagedLease.DriftMargin(TimeSpan.FromSeconds(10)); // 9.898 s

        time.Advance(safe - TimeSpan.FromMilliseconds(1));
        Assert.False(lease.IsLost);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await TestSupport.WhenCancelled(lease.LostToken).Within(30, "LostToken at Ttl minus the drift margin");
    }

    [Fact]
    public async Task On_a_fake_clock_the_lease_renews_at_a_third_of_its_ttl()
    {
        var time = new FakeTimeProvider();
        var log = new RecordingLogger();
        await using var provider = new RedisLockProvider(redis.Connection, logger: log, timeProvider: time);
        var key = RedisFixture.UniqueKey("fake-renew");
        await using var lease = await provider.AcquireAsync(key, TestSupport.Options(ttlMs: 30_000));
        var renewed = log.Next(3);

        time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(renewed.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));
        await renewed.Within(30, "the renewal at Ttl/3");

        // Renewed in time, again and again: a minute of fake time later the lease still holds.
        for (var i = 0; i < 6; i++)
        {
            log.Reset(3);
            var next = log.Next(3);
            time.Advance(TimeSpan.FromSeconds(10));
            await next.Within(30, $"renewal {i + 2}");
        }

        Assert.False(lease.IsLost);
    }

    [Fact]
    public async Task On_a_fake_clock_a_lease_whose_store_stopped_answering_is_lost_by_the_local_clock()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync(timeoutMs: 10_000);
        var time = new FakeTimeProvider();
        await using var provider = new RedisLockProvider(connection, timeProvider: time);
        var lease = await provider.AcquireAsync("fake-paused", TestSupport.Options(ttlMs: 30_000));
        server.Pause();
        try
        {
            time.Advance(TimeSpan.FromSeconds(10)); // the renewal goes out and hangs
            time.Advance(TimeSpan.FromSeconds(19));
            Assert.False(lease.IsLost);
            time.Advance(TimeSpan.FromSeconds(1));
            await TestSupport.WhenCancelled(lease.LostToken).Within(30, "LostToken by the local clock");
        }
        finally
        {
            server.Resume();
        }
    }

    [Theory]
    [InlineData(5_000)]
    [InlineData(0)]
    public async Task A_grant_that_comes_back_after_its_ttl_is_given_back_and_asked_for_again(int waitMs)
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync(timeoutMs: 5_000);
        var log = new RecordingLogger();
        await using var provider = new RedisLockProvider(connection, logger: log);
        await RedisFixture.WarmUpAsync(provider);
        var attemptsBefore = provider.AcquireAttempts;

        // The acquire waits in the socket of a stopped server for longer than the lease's TTL; the server then grants it
        // with a fresh TTL, but the answer comes back too late for the holder to count on any of it.
        server.Pause();
        // A TTL of a second, so that on a busy machine the second answer still comes back in time.
        var acquiring = provider.AcquireAsync("late-grant", TestSupport.Options(ttlMs: 1_000, waitMs: waitMs)).AsTask();
        await Task.Delay(1_300);
        server.Resume();
        await using var lease = await acquiring.Within(30, "the acquire after the server resumed");

        Assert.False(lease.IsLost);
        // One late grant given back, then one in time (a busy machine may make a second one late as well).
        Assert.InRange(provider.AcquireAttempts - attemptsBefore, 2, 4);
        Assert.Contains(log.Entries, entry => entry.Id == 8);
        // The key is held by the lease handed out, not by the late one.
        var holder = (byte[]?)await connection.GetDatabase().StringGetAsync(provider.Keyspace.LockKey("late-grant"));
        Assert.Equal(((ManagedLease)lease).Identity.Owner.ToByteArray(), holder);
    }

    [Fact]
    public async Task IsLost_follows_the_clock_even_when_the_monitor_has_not_run_yet()
    {
        // The fake clock moves past the validity without running the monitor's timer callbacks in between: IsLost
        // must still say lost, and LostToken must agree once IsLost said so.
        var time = new ManualClock();
        await using var provider = redis.Provider(time: time);
        var lease = await provider.AcquireAsync(RedisFixture.UniqueKey("clock-only"), TestSupport.Options(ttlMs: 10_000, renew: false));
        Assert.False(lease.IsLost);

        time.Now += TimeSpan.FromSeconds(10);

        Assert.True(lease.IsLost);
        Assert.True(lease.LostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task A_LostToken_first_read_after_the_loss_is_already_cancelled()
    {
        var time = new FakeTimeProvider();
        await using var provider = redis.Provider(time: time);
        var lease = await provider.AcquireAsync(RedisFixture.UniqueKey("late-reader"), TestSupport.Options(ttlMs: 10_000, renew: false));

        time.Advance(TimeSpan.FromSeconds(10));
        await TestSupport.Until(() => lease.IsLost).Within(30, "IsLost at Ttl, with nobody watching LostToken");

        Assert.True(lease.LostToken.IsCancellationRequested);
        Assert.True(lease.LostToken.IsCancellationRequested); // and it stays so on a second read
    }

    [Fact]
    public async Task Acquire_renew_and_release_resend_their_scripts_after_the_server_forgot_them()
    {
        await using var server = await RedisServer.StartAsync();
        var configuration = server.Configuration(timeoutMs: 2000);
        configuration.AllowAdmin = true;
        await using var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        await using var provider = new RedisLockProvider(connection);
        var flush = connection.GetServer(server.Endpoint);

        await flush.ScriptFlushAsync();
        var lease = await provider.AcquireAsync("forgotten", TestSupport.Options(ttlMs: 5_000));
        await flush.ScriptFlushAsync();
        Assert.True(await lease.RenewAsync());
        await flush.ScriptFlushAsync();
        await lease.ReleaseAsync();

        Assert.False(await connection.GetDatabase().KeyExistsAsync(provider.Keyspace.LockKey("forgotten")));
        await using var next = await provider.AcquireAsync("forgotten", TestSupport.Options(waitMs: 0));
        Assert.True(next.FencingToken > lease.FencingToken);
    }

    /// <summary>The fencing token of the lease held on <paramref name="key"/> in the store, or null when none is.</summary>
    private async Task<long?> HeldTokenAsync(RedisLockProvider provider, string key)
    {
        var lockKey = provider.Keyspace.LockKey(key);
        if (!await redis.Database.KeyExistsAsync(lockKey))
        {
            return null;
        }

        return (long)await redis.Database.StringGetAsync(RedisKeyspace.FenceKey(lockKey));
    }
}
