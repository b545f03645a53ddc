using Locking.Testing;

namespace Locking.Runtime.Tests;

/// <summary>The Redis store on a real three-primary Redis Cluster: each lock's keys share a slot, notices cross nodes.</summary>
public sealed class ClusterTests
{
    [Fact]
    public async Task Leases_on_keys_spread_over_every_primary_acquire_renew_and_release()
    {
        await using var cluster = await RedisCluster.StartAsync(primaries: 3);
        await using var connection = await cluster.ConnectAsync();
        await using var provider = new RedisLockProvider(connection);
        // Braces, spaces and non-ASCII text too: the hash tag must still keep a lock's two keys in one slot.
        var keys = Enumerable.Range(0, 60).Select(i => i % 3 == 0 ? $"orders/{{{i}}} é {i}" : $"orders/{i}").ToList();
        var primaries = keys.Select(key => connection.GetServer(connection.GetDatabase().IdentifyEndpoint(provider.Keyspace.LockKey(key))!).EndPoint.ToString()).Distinct().Count();
        Assert.Equal(3, primaries);

        var leases = new List<LockLease>();
        foreach (var key in keys)
        {
            leases.Add(await provider.AcquireAsync(key, TestSupport.Options(waitMs: 0)));
        }

        foreach (var lease in leases)
        {
            Assert.True(await lease.RenewAsync());
            // Held, so another flow (this one would be told it recurses) is refused.
            Assert.Null(await TestSupport.Elsewhere(async () => await provider.TryAcquireAsync(lease.Key, TestSupport.Options(waitMs: 0))));
        }

        foreach (var lease in leases)
        {
            await lease.ReleaseAsync();
        }

        foreach (var key in keys)
        {
            Assert.False(await connection.GetDatabase().KeyExistsAsync(provider.Keyspace.LockKey(key)));
            await using var next = await provider.AcquireAsync(key, TestSupport.Options(waitMs: 0));
            Assert.True(next.FencingToken > leases[keys.IndexOf(key)].FencingToken);
        }
    }

    [Fact]
    public async Task A_release_grants_the_key_to_a_waiter_of_another_process_and_the_notice_stays_on_the_keys_shard()
    {
        await using var cluster = await RedisCluster.StartAsync(primaries: 3);
        await using var holderConnection = await cluster.ConnectAsync();
        await using var waiterConnection = await cluster.ConnectAsync();
        await using var holderSide = new RedisLockProvider(holderConnection);
        await using var waiterSide = new RedisLockProvider(waiterConnection, new RedisLockProviderOptions { QueuedWaiterTimeout = TimeSpan.FromMinutes(10) });
        var nodes = holderConnection.GetServers().Where(server => !server.IsReplica).Select(server => server.EndPoint.ToString()!).ToList();
        Assert.Equal(3, nodes.Count);

        var keyNodes = new HashSet<string>();
        for (var i = 0; i < 6; i++)
        {
            var key = $"handoff/{i}";
            var lockKey = holderSide.Keyspace.LockKey(key);
            var keyNode = holderConnection.GetServer(holderConnection.GetDatabase().IdentifyEndpoint(lockKey)!).EndPoint.ToString()!;
            keyNodes.Add(keyNode);
            var held = await holderSide.AcquireAsync(key, TestSupport.Options(ttlMs: 30_000));
            var attemptsBefore = waiterSide.AcquireAttempts;
            var waiting = Task.Run(async () => await waiterSide.AcquireAsync(key, TestSupport.Options(ttlMs: 30_000, waitMs: 60_000)));
            await TestSupport.WaitUntilQueuedAsync(waiterSide, waiterConnection.GetDatabase(), key, 1);
            await TestSupport.Until(() => waiterSide.Notices().IsSubscribed(lockKey));
            var publishedBefore = await PublishedByNodeAsync(nodes);
            await held.ReleaseAsync();

            await using var next = await waiting.Within(20, $"the waiter of '{key}' after the release");
            Assert.True(next.FencingToken > held.FencingToken);
            // The request that queued it and one look once subscribed; the grant came with the release.
            Assert.Equal(2, waiterSide.AcquireAttempts - attemptsBefore);
            var published = await PublishedByNodeAsync(nodes);
            foreach (var (node, calls) in published)
            {
                Assert.Equal(node == keyNode ? publishedBefore[node] + 1 : publishedBefore[node], calls);
            }
        }

        Assert.True(keyNodes.Count > 1, "The keys of the test should spread over several primaries.");
    }

    private static async Task<Dictionary<string, long>> PublishedByNodeAsync(List<string> nodes)
    {
        var published = new Dictionary<string, long>();
        foreach (var node in nodes)
        {
            published[node] = await WaitingTests.PublishedAsync(node);
        }

        return published;
    }
}
