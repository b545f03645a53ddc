using Locking.Testing;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

/// <summary>Redlock over three redis-server processes of the test's own, so it may kill them.</summary>
public sealed class RedlockTests : IAsyncLifetime
{
    private readonly List<RedisServer> _servers = [];
    private readonly List<ConnectionMultiplexer> _connections = [];

    public async Task InitializeAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            var server = await RedisServer.StartAsync();
            _servers.Add(server);
            _connections.Add(await server.ConnectAsync(timeoutMs: 1_000));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private RedisLockProvider Provider() => new(_connections, new RedisLockProviderOptions { StoreTimeout = TimeSpan.FromMilliseconds(500) });

    [Fact]
    public async Task The_lease_is_set_on_every_primary_and_excludes_others()
    {
        await using var provider = Provider();
        await using var lease = await provider.AcquireAsync("redlock/all");
        var holding = 0;
        foreach (var connection in _connections)
        {
            holding += await connection.GetDatabase().KeyExistsAsync(provider.Keyspace.LockKey("redlock/all")) ? 1 : 0;
        }

        Assert.True(holding >= 2, $"Only {holding} of 3 primaries hold the lease."); // the grant may come before the third answers

        var other = await TestSupport.Elsewhere(async () => await provider.TryAcquireAsync("redlock/all", TestSupport.Options(waitMs: 0)));
        Assert.Null(other);
        Assert.True(await lease.RenewAsync());
    }

    [Fact]
    public async Task With_one_primary_killed_the_quorum_still_grants_renews_and_hands_over()
    {
        await using var provider = Provider();
        _servers[2].Kill();

        var first = await provider.AcquireAsync("redlock/one-down", TestSupport.Options(waitMs: 2_000));
        Assert.True(await first.RenewAsync());
        var waiting = TestSupport.Elsewhere(async () => await provider.AcquireAsync("redlock/one-down", TestSupport.Options(waitMs: 5_000)));
        await first.ReleaseAsync();
        await using var second = await waiting.Within(5, "the handoff on two of three primaries");

        Assert.True(second.FencingToken > first.FencingToken);
        Assert.False(second.IsLost);
    }

    [Fact]
    public async Task With_two_primaries_killed_nothing_is_granted()
    {
        await using var provider = Provider();
        _servers[1].Kill();
        _servers[2].Kill();

        var error = await Assert.ThrowsAsync<LockStoreUnavailableException>(async () => await provider.AcquireAsync("redlock/two-down", TestSupport.Options(waitMs: 1_000)));
        Assert.True(error.InnerException is RedisException or RedisTimeoutException, $"Inner: {error.InnerException}");
        Assert.Equal("redlock/two-down", error.Key);
        // The one primary that granted gave the lease back.
        Assert.False(await _connections[0].GetDatabase().KeyExistsAsync(provider.Keyspace.LockKey("redlock/two-down")));
    }

    [Fact]
    public async Task A_held_lease_is_lost_when_the_quorum_is_gone()
    {
        await using var provider = Provider();
        await RedisFixture.WarmUpAsync(provider);
        var lease = await provider.AcquireAsync("redlock/lose-quorum", TestSupport.Options(ttlMs: 1_000));
        _servers[0].Kill();
        _servers[1].Kill();

        await TestSupport.WhenCancelled(lease.LostToken).Within(3, "LostToken without a quorum");
    }

    [Fact]
    public async Task Contenders_on_three_primaries_never_overlap()
    {
        await using var provider = Provider();
        await using var rival = Provider();
        var inside = 0;
        var overlaps = 0;

        async Task ContendAsync(RedisLockProvider through)
        {
            for (var i = 0; i < 10; i++)
            {
                await using var lease = await through.AcquireAsync("redlock/contended", TestSupport.Options(waitMs: 30_000));
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => ContendAsync(i % 2 == 0 ? provider : rival)))).Within(60, "80 turns");
        Assert.Equal(0, overlaps);
    }
}
