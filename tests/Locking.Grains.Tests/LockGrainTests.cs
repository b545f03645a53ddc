using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using Orleans.Hosting;
using Orleans.Runtime;

namespace Locking.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class LockGrainTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan LongWait = TimeSpan.FromSeconds(30);

    private OrleansLockProvider Provider => fixture.Provider;

    private static string NewKey(string name) => $"{name}/{Guid.NewGuid():N}";

    private ILockGrain Grain(string key) => fixture.Cluster.Client.GetGrain<ILockGrain>(key);

    private static Guid Owner(LockLease lease) => ((ManagedLease)lease).Identity.Owner;

    [Fact]
    public async Task Many_concurrent_callers_never_overlap_and_get_increasing_tokens()
    {
        var key = NewKey("exclusion");
        var inside = 0;
        var overlaps = 0;
        var tokens = new ConcurrentQueue<long>();
        var options = new LockOptions { Ttl = TimeSpan.FromSeconds(20), Wait = LongWait };

        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 5; i++)
            {
                await using var lease = await Provider.AcquireAsync(key, options);
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                tokens.Enqueue(lease.FencingToken);
                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
        })));

        Assert.Equal(0, overlaps);
        var granted = tokens.ToArray();
        Assert.Equal(80, granted.Length);
        Assert.Equal(granted.Order(), granted);
        Assert.Equal(granted.Length, granted.Distinct().Count());
    }

    [Fact]
    public async Task Waiters_get_the_lease_in_arrival_order_when_it_is_released()
    {
        var key = NewKey("fifo");
        var grain = Grain(key);
        var holder = await HoldAsync(Provider, key);
        var order = new ConcurrentQueue<(int Waiter, long Token)>();
        var waiters = new List<Task>();
        for (var i = 0; i < 4; i++)
        {
            var waiter = i;
            waiters.Add(Task.Run(async () =>
            {
                await using var lease = await Provider.AcquireAsync(key, new LockOptions { Wait = LongWait });
                order.Enqueue((waiter, lease.FencingToken));
            }));

            // The next waiter starts only once this one is parked in the grain's queue.
            await WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == waiter + 1);
        }

        await holder.ReleaseAsync();
        await Task.WhenAll(waiters);

        Assert.Equal([0, 1, 2, 3], order.Select(o => o.Waiter));
        Assert.Equal(Enumerable.Range(1, 4).Select(i => holder.FencingToken + i), order.Select(o => o.Token));
    }

    [Fact]
    public async Task A_waiter_keeps_its_place_across_the_calls_of_a_long_wait()
    {
        // A sends its wait in short calls; B and C in calls that outlast the test, so only A's calls come and go.
        await using var chunked = new OrleansLockProvider(fixture.Cluster.Client, new OrleansLockProviderOptions { WaitPerCall = TimeSpan.FromMilliseconds(100) });
        await using var patient = new OrleansLockProvider(fixture.Cluster.Client, new OrleansLockProviderOptions { WaitPerCall = TimeSpan.FromSeconds(10) });
        var key = NewKey("fifo-chunks");
        var grain = Grain(key);
        var holder = await HoldAsync(Provider, key);
        var order = new ConcurrentQueue<string>();
        Task Wait(OrleansLockProvider provider, string name) => Task.Run(async () =>
        {
            await using var lease = await provider.AcquireAsync(key, new LockOptions { Wait = LongWait });
            order.Enqueue(name);
        });
        int AcquireCalls() => fixture.Calls.Count(key, nameof(ILockGrain.AcquireAsync));

        var a = Wait(chunked, "A");
        await WaitUntilAsync(() => Task.FromResult(AcquireCalls() >= 3));
        var b = Wait(patient, "B");
        await WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == 2);
        var c = Wait(patient, "C");
        await WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == 3);

        // A's wait goes on in new calls after B and C came.
        var seen = AcquireCalls();
        await WaitUntilAsync(() => Task.FromResult(AcquireCalls() >= seen + 3));
        await holder.ReleaseAsync();
        await Task.WhenAll(a, b, c);

        Assert.Equal(["A", "B", "C"], order);
    }

    [Fact]
    public async Task A_lease_that_comes_free_while_the_first_waiter_is_between_two_calls_waits_for_its_next_call()
    {
        var key = NewKey("rejoin");
        var grain = Grain(key);
        var holder = await HoldAsync(Provider, key);
        var first = new LockAcquireRequest(Guid.NewGuid(), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50)) { KeepPlace = true };
        Assert.Equal(LockAcquireStatus.Busy, (await grain.AcquireAsync(first)).Status);
        var second = Task.Run(() => Provider.AcquireAsync(key, new LockOptions { Wait = LongWait }).AsTask());
        await WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == 2);

        await holder.ReleaseAsync();
        var back = await grain.AcquireAsync(first with { Wait = TimeSpan.FromSeconds(10), KeepPlace = false });

        Assert.Equal(LockAcquireStatus.Granted, back.Status);
        Assert.Equal(holder.FencingToken + 1, back.FencingToken);
        Assert.False(second.IsCompleted);
        Assert.True(await grain.ReleaseAsync(first.Owner, back.FencingToken));
        await using var next = await second;
        Assert.Equal(back.FencingToken + 1, next.FencingToken);
    }

    [Fact]
    public async Task A_waiter_that_does_not_come_back_for_its_next_call_gives_up_its_place()
    {
        var calls = new LockGrainCalls();
        await using var cluster = await TestClusters.StartAsync(1, silo => silo
            .AddLockGrains(options => options.RejoinWindow = TimeSpan.FromSeconds(1))
            .AddIncomingGrainCallFilter(calls));
        await using var provider = new OrleansLockProvider(cluster.Client);
        var key = NewKey("rejoin-expiry");
        var grain = cluster.Client.GetGrain<ILockGrain>(key);
        var holder = await HoldAsync(provider, key);
        var gone = new LockAcquireRequest(Guid.NewGuid(), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50)) { KeepPlace = true };
        Assert.Equal(LockAcquireStatus.Busy, (await grain.AcquireAsync(gone)).Status);
        var second = Task.Run(() => provider.AcquireAsync(key, new LockOptions { Wait = LongWait }).AsTask());

        // The grain queues an acquire in the turn it arrives in, before it takes the release that follows.
        await WaitUntilAsync(() => Task.FromResult(calls.Count(key, nameof(ILockGrain.AcquireAsync)) >= 3));

        await holder.ReleaseAsync();
        await using var next = await second;

        Assert.Equal(holder.FencingToken + 1, next.FencingToken);
        Assert.Equal(0, (await grain.InspectAsync()).Waiters);
        Assert.Equal(LockAcquireStatus.Busy, (await grain.AcquireAsync(gone with { Wait = TimeSpan.Zero, KeepPlace = false })).Status);
    }

    [Fact]
    public async Task Fencing_tokens_grow_by_one_per_grant()
    {
        var key = NewKey("fencing");
        var tokens = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            await using var lease = await Provider.AcquireAsync(key);
            tokens.Add(lease.FencingToken);
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => tokens[0] + i), tokens);
        Assert.True(tokens[0] > 1, $"A key without a record seeds its tokens from the clock; the first was {tokens[0]}.");
    }

    [Fact]
    public async Task Renew_and_release_by_another_owner_or_token_are_refused()
    {
        var key = NewKey("owner");
        var grain = Grain(key);
        await using var lease = await HoldAsync(Provider, key);
        var owner = Owner(lease);
        var stranger = Guid.NewGuid();

        Assert.False(await grain.RenewAsync(stranger, lease.FencingToken, TimeSpan.FromSeconds(30)));
        Assert.False(await grain.ReleaseAsync(stranger, lease.FencingToken));
        Assert.False(await grain.RenewAsync(owner, lease.FencingToken - 1, TimeSpan.FromSeconds(30)));
        Assert.False(await grain.ReleaseAsync(owner, lease.FencingToken + 1));

        Assert.Null(await Provider.TryAcquireAsync(key, new LockOptions { Wait = TimeSpan.Zero }));
        Assert.Equal(owner, (await grain.InspectAsync()).Holder);
        Assert.True(await lease.RenewAsync());
        Assert.True(await grain.ReleaseAsync(owner, lease.FencingToken));
        Assert.False(await lease.RenewAsync());
    }

    [Fact]
    public async Task An_expired_lease_passes_to_the_next_waiter()
    {
        // The holders' clock is a fake that stands still until the test moves it: a busy machine cannot make a lease
        // run out on the holder's side before the test looks. The grain's clock is real: the first lease ends there.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var provider = new OrleansLockProvider(fixture.Cluster.Client, timeProvider: clock);
        var key = NewKey("expiry");
        var ttl = TimeSpan.FromMilliseconds(800);
        var nextTtl = TimeSpan.FromSeconds(30);
        var started = Stopwatch.StartNew();
        var holder = await HoldAsync(provider, key, new LockOptions { Ttl = ttl, Renew = false });

        await using var next = await provider.AcquireAsync(key, new LockOptions { Ttl = nextTtl, Wait = LongWait, Renew = false }).AsTask().WaitAsync(LongWait);

        Assert.Equal(holder.FencingToken + 1, next.FencingToken);
        Assert.True(started.Elapsed >= ttl, $"The next holder got the lease after {started.Elapsed}, before the first one's TTL ({ttl}) ran out.");

        // The waiter's TTL runs from its grant, not from its request: on its own clock, a safe TTL after the request
        // (which is when the fake clock stands) it still holds, and the first holder, whose TTL ran out, does not.
        clock.Advance(nextTtl - ManagedLease.DriftMargin(nextTtl));
        Assert.False(next.IsLost);
        Assert.True(holder.IsLost);
        await holder.ReleaseAsync();
        Assert.Equal(Owner(next), (await Grain(key).InspectAsync()).Holder);
    }

    [Fact]
    public async Task A_retried_acquire_returns_the_same_grant()
    {
        var key = NewKey("retry");
        var grain = Grain(key);
        var request = new LockAcquireRequest(Guid.NewGuid(), TimeSpan.FromSeconds(30), TimeSpan.Zero);

        var first = await grain.AcquireAsync(request);
        var again = await grain.AcquireAsync(request);
        var other = await grain.AcquireAsync(request with { Owner = Guid.NewGuid() });

        Assert.Equal(LockAcquireStatus.Granted, first.Status);
        Assert.Equal((first.Status, first.FencingToken), (again.Status, again.FencingToken));
        Assert.Equal(LockAcquireStatus.Busy, other.Status);
        Assert.Equal(first.FencingToken, (await grain.InspectAsync()).FencingToken);
    }

    [Fact]
    public async Task A_stale_activation_that_loses_the_ETag_race_grants_nothing()
    {
        var key = NewKey("duplicate");
        var grain = Grain(key);
        (await Provider.AcquireAsync(key)).Dispose();

        // Another activation of the same key (as during a membership split) grants the lease in storage.
        var storage = fixture.Cluster.LockStorage();
        var record = new GrainState<LockRecord>();
        await storage.ReadStateAsync("lock", grain.GetGrainId(), record);
        var stored = record.State ?? throw new InvalidOperationException("The lock record was not found.");
        var duplicateOwner = Guid.NewGuid();
        var duplicateToken = stored.LastToken + 1;
        stored.LastToken = duplicateToken;
        stored.Holder = duplicateOwner;
        stored.HolderToken = duplicateToken;
        stored.ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(1);
        await storage.WriteStateAsync("lock", grain.GetGrainId(), record);

        // This activation still believes the key is free; its ETag-conditioned grant fails and it backs off.
        var direct = await grain.AcquireAsync(new LockAcquireRequest(Guid.NewGuid(), TimeSpan.FromSeconds(30), TimeSpan.Zero));
        Assert.Equal(LockAcquireStatus.Retry, direct.Status);

        // The next activation reads the record: the duplicate's lease stands, and nobody else gets one.
        Assert.Null(await Provider.TryAcquireAsync(key, new LockOptions { Wait = TimeSpan.Zero }));
        var seen = await grain.InspectAsync();
        Assert.Equal(duplicateOwner, seen.Holder);
        Assert.Equal(duplicateToken, seen.FencingToken);
    }

    [Fact]
    public async Task Deactivation_sends_parked_waiters_off_to_retry()
    {
        var key = NewKey("deactivate");
        var grain = Grain(key);
        await using var holder = await HoldAsync(Provider, key);
        var parked = grain.AcquireAsync(new LockAcquireRequest(Guid.NewGuid(), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10)));
        await WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == 1);

        var deactivated = fixture.Cluster.DeactivateAsync(grain);
        var answer = await parked;

        Assert.Equal(LockAcquireStatus.Retry, answer.Status);
        await deactivated;
        Assert.Equal(Owner(holder), (await grain.InspectAsync()).Holder);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_leaves_nothing_behind()
    {
        var key = NewKey("cancel");
        var grain = Grain(key);
        var holder = await HoldAsync(Provider, key);
        using var cancel = new CancellationTokenSource();
        var waiting = Provider.AcquireAsync(key, new LockOptions { Wait = LongWait }, cancel.Token).AsTask();
        await WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == 1);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == 0);
        await holder.ReleaseAsync();

        await using var next = await Provider.AcquireAsync(key, new LockOptions { Wait = TimeSpan.Zero });
        Assert.Equal(holder.FencingToken + 1, next.FencingToken);
    }

    [Fact]
    public async Task A_renewed_lease_outlives_its_ttl()
    {
        // The holder's clock is a fake that the test moves on by half the TTL (past the renewal period, a third) each
        // time the last renewal was confirmed: a busy machine cannot make a renewal late on the holder's side. The
        // grain's clock is real, and the test goes on until it is past the first grant's end: the lease outlives its TTL there too.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var log = new RenewalLog();
        await using var provider = new OrleansLockProvider(fixture.Cluster.Client, logger: log, timeProvider: clock);
        var key = NewKey("renew");
        var ttl = TimeSpan.FromSeconds(4);
        await using var lease = await HoldAsync(provider, key, new LockOptions { Ttl = ttl });
        var firstEnd = (await Grain(key).InspectAsync()).ExpiresAt ?? throw new InvalidOperationException("The lease is not in the store.");

        while (log.Renewals < 8 || DateTimeOffset.UtcNow <= firstEnd)
        {
            var renewed = log.NextRenewal();
            clock.Advance(ttl / 2);
            await renewed.WaitAsync(LongWait);

            // Paces the renewals (the grain's TTL is what they keep ahead of); nothing is decided by it.
            await Task.Delay(ttl / 8);
        }

        Assert.False(lease.IsLost);
        Assert.Null(await Provider.TryAcquireAsync(key, new LockOptions { Wait = TimeSpan.Zero }));
        Assert.Equal(Owner(lease), (await Grain(key).InspectAsync()).Holder);
    }

    [Fact]
    public async Task Waiters_send_one_acquire_call_per_wait_chunk_under_contention()
    {
        var chunk = TimeSpan.FromMilliseconds(100);
        await using var chunked = new OrleansLockProvider(fixture.Cluster.Client, new OrleansLockProviderOptions { WaitPerCall = chunk });
        var key = NewKey("calls");
        var grants = new ConcurrentQueue<(Guid Owner, TimeSpan Waited)>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 5; i++)
            {
                var waiting = Stopwatch.StartNew();
                await using var lease = await chunked.AcquireAsync(key, new LockOptions { Wait = LongWait });
                grants.Enqueue((Owner(lease), waiting.Elapsed));

                // Held long enough that the other seven wait across several chunks.
                await Task.Delay(chunk / 2);
            }
        })));

        // Every call but a wait's last one waits a whole chunk in the grain, so a wait of W takes at most W / chunk
        // calls and a last one, plus the one that may follow a call which asked to keep its place.
        var calls = 0;
        foreach (var (owner, waited) in grants)
        {
            var sent = fixture.Calls.Count(key, nameof(ILockGrain.AcquireAsync), owner);
            var bound = (int)(waited / chunk) + 2;
            Assert.True(sent <= bound, $"A waiter sent {sent} acquire calls in {waited.TotalMilliseconds:0} ms of waiting with {chunk.TotalMilliseconds:0} ms chunks.");
            calls += sent;
        }

        Assert.Equal(40, grants.Count);
        output.WriteLine($"{calls} acquire calls for {grants.Count} grants ({calls / (double)grants.Count:0.0} per grant), longest wait {grants.Max(g => g.Waited).TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_ttl_above_the_grain_cap_is_refused_with_its_value()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Provider.AcquireAsync(NewKey("cap"), new LockOptions { Ttl = TimeSpan.FromHours(2) }).AsTask());

        Assert.Contains("02:00:00", error.Message);
        Assert.Contains("MaxTtl", error.Message);
    }

    [Fact]
    public async Task A_wait_longer_than_one_call_is_sent_in_chunks()
    {
        await using var provider = new OrleansLockProvider(fixture.Cluster.Client, new OrleansLockProviderOptions { WaitPerCall = TimeSpan.FromMilliseconds(200) });
        var key = NewKey("chunks");
        var holder = await HoldAsync(provider, key, new LockOptions { Ttl = TimeSpan.FromSeconds(1), Renew = false });

        await using var next = await provider.AcquireAsync(key, new LockOptions { Wait = LongWait });

        Assert.Equal(holder.FencingToken + 1, next.FencingToken);
    }

    [Fact]
    public async Task The_hosted_grain_factory_works_as_well_as_the_external_client()
    {
        var siloGrains = fixture.Cluster.Silos[1].ServiceProvider.GetRequiredService<IGrainFactory>();
        await using var hosted = new OrleansLockProvider(siloGrains);
        var key = NewKey("hosted");

        var lease = await HoldAsync(hosted, key);
        Assert.Null(await Provider.TryAcquireAsync(key, new LockOptions { Wait = TimeSpan.Zero }));
        await lease.ReleaseAsync();
        await using var next = await Provider.AcquireAsync(key, new LockOptions { Wait = TimeSpan.Zero });

        Assert.Equal(lease.FencingToken + 1, next.FencingToken);
    }

    /// <summary>
    /// Acquires in a flow of its own, as another caller would: a lease marks the async flow that acquired it, and a
    /// second acquire of the key in that flow (or in tasks it starts) is refused as reentrant.
    /// </summary>
    internal static Task<LockLease> HoldAsync(ILockProvider provider, string key, LockOptions? options = null)
        => Task.Run(() => provider.AcquireAsync(key, options).AsTask());

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException("The condition did not hold within 20 s.");
            }

            await Task.Delay(20);
        }
    }
}
