using System.Diagnostics;
using Locking.Testing;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

public sealed class UnavailableStoreTests
{
    [Fact]
    public async Task A_stopped_server_fails_the_acquire_within_the_wait()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync(timeoutMs: 10_000);
        await using var provider = new RedisLockProvider(connection, new RedisLockProviderOptions { StoreTimeout = TimeSpan.FromMilliseconds(200) });
        await RedisFixture.WarmUpAsync(provider);
        server.Pause();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<LockStoreUnavailableException>(async () => await provider.AcquireAsync("stopped", TestSupport.Options(waitMs: 1_000)));
            // The connection would wait 10 s for the stopped server; the acquire gives up after its wait and one store timeout.
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(8), $"The acquire took {stopwatch.Elapsed} for a 1 s wait.");
            Assert.True(error.InnerException is RedisException or RedisTimeoutException, $"Inner: {error.InnerException}");
            Assert.Equal("stopped", error.Key);
        }
        finally
        {
            server.Resume();
        }
    }

    [Fact]
    public async Task A_grant_that_arrives_after_the_caller_gave_up_is_released()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync(timeoutMs: 10_000);
        var log = new RecordingLogger();
        await using var provider = new RedisLockProvider(connection, new RedisLockProviderOptions { StoreTimeout = TimeSpan.FromMilliseconds(200) }, log);
        await RedisFixture.WarmUpAsync(provider);
        var released = log.Next(102); // "an abandoned acquire ... was granted after the caller gave up; released it"
        server.Pause();
        try
        {
            await Assert.ThrowsAsync<LockStoreUnavailableException>(async () => await provider.AcquireAsync("late-grant", TestSupport.Options(waitMs: 300)));
        }
        finally
        {
            server.Resume(); // the server now runs the acquire it received while stopped, and grants it
        }

        await released.Within(30, "the release of the abandoned grant");
        Assert.False(await connection.GetDatabase().KeyExistsAsync("lock:{late-grant}"));
    }

    [Fact]
    public async Task A_killed_server_fails_the_acquire_and_a_restarted_one_serves_again()
    {
        await using var server = await RedisServer.StartAsync();
        await using var connection = await server.ConnectAsync(timeoutMs: 1_000);
        await using var provider = new RedisLockProvider(connection, new RedisLockProviderOptions { StoreTimeout = TimeSpan.FromMilliseconds(200) });
        await RedisFixture.WarmUpAsync(provider);
        server.Kill();

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<LockStoreUnavailableException>(async () => await provider.AcquireAsync("killed", TestSupport.Options(waitMs: 500)));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"The acquire took {stopwatch.Elapsed} for a 0.5 s wait.");
        Assert.True(error.InnerException is RedisException or RedisTimeoutException, $"Inner: {error.InnerException}");

        await server.RestartAsync();
        await using var lease = await provider.AcquireAsync("killed", TestSupport.Options(waitMs: 10_000));
        Assert.True(lease.FencingToken > 0);
    }
}
