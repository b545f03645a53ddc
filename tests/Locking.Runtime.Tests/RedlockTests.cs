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

    private RedisLockProvider Provider(TimeSpan? storeTimeout = null)
        => new(_connections, new RedisLockProviderOptions { StoreTimeout = storeTimeout ?? TimeSpan.FromMilliseconds(500) });

    /// <summary>Each primary's lease value, its TTL and the length of its wait queue, for a failure message.</summary>
    private async Task<string> DescribeAsync(string lockKey)
    {
        var states = new List<string>();
        foreach (var connection in _connections)
        {
            try
            {
                var database = connection.GetDatabase();
                var holder = (byte[]?)await database.StringGetAsync(lockKey);
                states.Add($"[{(holder is null ? "free" : Convert.ToHexString(holder))}, ttl {await database.KeyTimeToLiveAsync(lockKey)}, {await database.SortedSetLengthAsync(RedisKeyspace.QueueKey(lockKey))} queued]");
            }
            catch (RedisException ex)
            {
                states.Add($"[{ex.GetType().Name}]");
            }
        }

        return string.Join(" ", states);
    }

    private async Task<int> PrimariesHoldingAsync(RedisLockProvider provider, string key)
    {
        var holding = 0;
        foreach (var connection in _connections)
        {
            holding += await connection.GetDatabase().KeyExistsAsync(provider.Keyspace.LockKey(key)) ? 1 : 0;
        }

        return holding;
    }

    [Fact]
    public async Task A_grant_that_answers_after_the_quorum_is_kept_so_the_lease_stands_on_every_primary()
    {
        await using var provider = Provider();
        for (var i = 0; i < 50; i++)
        {
            var key = $"redlock/all/{i}";
            await using var lease = await provider.AcquireAsync(key);
            // The grant is handed out once two primaries answered; the third's grant must stay, not be given back.
            for (var look = 0; look < 500 && await PrimariesHoldingAsync(provider, key) < 3; look++)
            {
                await Task.Delay(10);
            }

            Assert.Equal(3, await PrimariesHoldingAsync(provider, key));
            Assert.True(await lease.RenewAsync());
        }
    }

    [Fact]
    public async Task A_primary_restarted_empty_under_a_held_lease_does_not_let_a_second_holder_in()
    {
        await using var provider = Provider();
        await using var rival = Provider();
        var lease = await provider.AcquireAsync("redlock/restart-under", TestSupport.Options(ttlMs: 30_000));
        for (var look = 0; look < 500 && await PrimariesHoldingAsync(provider, "redlock/restart-under") < 3; look++)
        {
            await Task.Delay(10);
        }

        await _servers[1].RestartAsync();

        var other = await TestSupport.Elsewhere(async () => await rival.TryAcquireAsync("redlock/restart-under", TestSupport.Options(waitMs: 0)));
        Assert.Null(other);
        Assert.False(lease.IsLost);
        Assert.True(await lease.RenewAsync());
    }

    [Fact]
    public async Task Fencing_tokens_rise_strictly_across_quorums_whose_primaries_disagree()
    {
        await using var provider = Provider();
        var key = "redlock/strict-fencing";
        var lockKey = provider.Keyspace.LockKey(key);
        // Primary 0's counter is eleven days ahead of the clocks (a skewed clock, or a counter from elsewhere).
        var now = await _connections[0].GetDatabase().ExecuteAsync("TIME");
        var farAhead = (long)now[0] * 1_000_000 + (long)now[1] + 1_000_000_000_000;
        await _connections[0].GetDatabase().StringSetAsync(RedisKeyspace.FenceKey(lockKey), farAhead, TimeSpan.FromMinutes(5));

        var tokens = new List<long>();
        async Task TakeTurnAsync()
        {
            LockLease lease;
            try
            {
                lease = await TestSupport.Elsewhere(async () => await provider.AcquireAsync(key, TestSupport.Options(waitMs: 10_000)));
            }
            catch (LockNotAcquiredException ex)
            {
                throw new Xunit.Sdk.XunitException($"Turn {tokens.Count} was not granted; the primaries hold {await DescribeAsync(lockKey)}. {ex.Message}");
            }

            tokens.Add(lease.FencingToken);
            await lease.ReleaseAsync();
        }

        _servers[2].Pause(); // a quorum of 0 and 1: the token comes from primary 0's counter
        try
        {
            await TakeTurnAsync();
        }
        finally
        {
            _servers[2].Resume();
        }

        Assert.True(tokens[0] > farAhead);

        _servers[0].Pause(); // a quorum of 1 and 2 only, whose own clocks are far behind (2 never saw the first holder)
        try
        {
            await TakeTurnAsync();
        }
        finally
        {
            _servers[0].Resume();
        }

        await _servers[0].RestartAsync(); // primary 0 comes back empty, clock-seeded again
        await TakeTurnAsync();

        _servers[2].Pause(); // a quorum of 0 (empty since) and 1
        try
        {
            await TakeTurnAsync();
        }
        finally
        {
            _servers[2].Resume();
        }

        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    [Fact]
    public async Task A_quorum_that_cannot_be_reached_is_decided_without_waiting_for_a_stopped_primary()
    {
        // The store timeout is 30 s: only the lease's validity (1 s) or a decided outcome may end the attempt earlier.
        await using var provider = Provider(storeTimeout: TimeSpan.FromSeconds(30));
        await RedisFixture.WarmUpAsync(provider);
        var lockKey = provider.Keyspace.LockKey("redlock/undecided");
        await _connections[1].GetDatabase().StringSetAsync(lockKey, "someone else", TimeSpan.FromMinutes(1));
        _servers[2].Pause();
        try
        {
            // Primary 0 grants, 1 is busy, 2 does not answer: only 2 could still make a quorum, and after the lease's
            // validity a quorum would be worth nothing.
            var split = await TestSupport.Elsewhere(async () => await provider.TryAcquireAsync("redlock/undecided", TestSupport.Options(ttlMs: 1_000, waitMs: 0))).Within(10, "the split attempt");
            Assert.Null(split);
            Assert.False(await _connections[0].GetDatabase().KeyExistsAsync(lockKey), "The partial grant on primary 0 was not given back.");

            // Busy on 0 and 1: no quorum is possible whatever 2 answers.
            await _connections[0].GetDatabase().StringSetAsync(lockKey, "someone else", TimeSpan.FromMinutes(1));
            var busy = await TestSupport.Elsewhere(async () => await provider.TryAcquireAsync("redlock/undecided", TestSupport.Options(ttlMs: 30_000, waitMs: 0))).Within(10, "the refused attempt");
            Assert.Null(busy);
        }
        finally
        {
            _servers[2].Resume();
        }
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
        await using var second = await waiting.Within(30, "the handoff on two of three primaries");

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

        await TestSupport.WhenCancelled(lease.LostToken).Within(30, "LostToken without a quorum");
    }

    [Fact]
    public async Task Contenders_on_four_connections_never_overlap_get_rising_tokens_and_send_a_bounded_number_of_requests()
    {
        var providers = new List<RedisLockProvider>();
        var connections = new List<ConnectionMultiplexer>();
        for (var i = 0; i < 4; i++)
        {
            var own = new List<ConnectionMultiplexer>();
            foreach (var server in _servers)
            {
                own.Add(await server.ConnectAsync());
            }

            connections.AddRange(own);
            providers.Add(new RedisLockProvider(own, new RedisLockProviderOptions { StoreTimeout = TimeSpan.FromMilliseconds(500) }));
        }

        try
        {
            var inside = 0;
            var overlaps = 0;
            var outOfOrder = 0;
            long lastToken = 0;
            const int turnsEach = 25;

            async Task ContendAsync(RedisLockProvider through)
            {
                for (var i = 0; i < turnsEach; i++)
                {
                    await using var lease = await through.AcquireAsync("redlock/contended", TestSupport.Options(waitMs: 60_000));
                    if (Interlocked.Increment(ref inside) != 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    if (lease.FencingToken <= Interlocked.Exchange(ref lastToken, lease.FencingToken))
                    {
                        Interlocked.Increment(ref outOfOrder);
                    }

                    await Task.Yield();
                    Interlocked.Decrement(ref inside);
                }
            }

            await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => ContendAsync(providers[i % 4])))).Within(120, "200 turns");
            Assert.Equal(0, overlaps);
            Assert.Equal(0, outOfOrder);
            // Each attempt is one request to each primary; waiters race, but are woken by releases, not a polling loop.
            var attemptsPerGrant = providers.Sum(provider => provider.AcquireAttempts) / (8.0 * turnsEach);
            Assert.True(attemptsPerGrant < 20, $"{attemptsPerGrant:0.0} attempts per grant.");
        }
        finally
        {
            foreach (var provider in providers)
            {
                await provider.DisposeAsync();
            }

            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
