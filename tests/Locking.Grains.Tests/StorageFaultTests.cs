using Orleans.TestingHost;

namespace Locking.Grains.Tests;

/// <summary>
/// Lock grains on a storage that fails or stalls (a real storage behind a fault switch, one silo per test): every
/// parked waiter ends, the key serves again once the storage does, inspection reports only what is stored, and the
/// silo still stops.
/// </summary>
public sealed class StorageFaultTests : IAsyncLifetime
{
    /// <summary>Long enough to pass on a busy machine; only a waiter or a shutdown that is really stuck runs into it.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly StorageFaults _faults = new();
    private InProcessTestCluster _cluster = null!;
    private OrleansLockProvider _provider = null!;

    public enum HandOff
    {
        /// <summary>The holder releases and the same write names the first waiter.</summary>
        Release,

        /// <summary>The holder's lease runs out and the grain's timer grants the first waiter.</summary>
        Expiry,
    }

    public async Task InitializeAsync()
    {
        _cluster = await FaultyGrainStorage.StartClusterAsync(_faults);
        _provider = new OrleansLockProvider(_cluster.Client);
    }

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        try
        {
            // A test that failed may leave a silo that cannot stop: do not hang the run on it.
            await _cluster.DisposeAsync().AsTask().WaitAsync(Bound);
        }
        catch (TimeoutException)
        {
        }
    }

    private ILockGrain Grain(string key) => _cluster.Client.GetGrain<ILockGrain>(key);

    private static string NewKey() => $"orders/{Guid.NewGuid():N}";

    [Theory]
    [InlineData(HandOff.Release)]
    [InlineData(HandOff.Expiry)]
    public async Task A_write_that_fails_while_the_lease_passes_to_a_waiter_strands_nobody_and_wedges_nothing(HandOff handOff)
    {
        var key = NewKey();
        var grain = Grain(key);
        var holder = await LockGrainTests.HoldAsync(_provider, key, new LockOptions { Ttl = TimeSpan.FromSeconds(60), Renew = false });
        var waiting = Task.Run(() => _provider.AcquireAsync(key, new LockOptions { Ttl = TimeSpan.FromSeconds(60), Wait = TimeSpan.FromSeconds(30) }).AsTask());
        await LockGrainTests.WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == 1);

        if (handOff == HandOff.Release)
        {
            // The release's write is the one that hands the lease to the waiter: it fails.
            _faults.FailWrites(grain.GetGrainId());
            await holder.ReleaseAsync();
        }
        else
        {
            // The holder's lease is cut short (a renewal to a short TTL) only now that the waiter is parked, so it ends
            // by expiry with a waiter in the queue however slow the machine is. The write after that renewal's is the
            // one that hands the lease to the waiter: it fails.
            _faults.FailWrites(grain.GetGrainId(), after: 1);
            Assert.True(await grain.RenewAsync(((ManagedLease)holder).Identity.Owner, holder.FencingToken, TimeSpan.FromMilliseconds(200)));
        }

        var next = await waiting;

        Assert.Equal(holder.FencingToken + 1, next.FencingToken);
        await next.ReleaseAsync();
        await using var after = await _provider.AcquireAsync(key, new LockOptions { Wait = TimeSpan.FromSeconds(30) });
        Assert.Equal(next.FencingToken + 1, after.FencingToken);
        await after.ReleaseAsync();
        await AssertSilosStopAsync();
    }

    [Fact]
    public async Task While_every_write_fails_waiters_end_and_the_silo_stops_and_the_key_serves_again_once_the_storage_heals()
    {
        var key = NewKey();
        var grain = Grain(key);
        var holder = await LockGrainTests.HoldAsync(_provider, key, new LockOptions { Ttl = TimeSpan.FromSeconds(60), Renew = false });
        var waiters = Enumerable.Range(0, 3)
            .Select(_ => Task.Run(() => _provider.TryAcquireAsync(key, new LockOptions { Wait = TimeSpan.FromSeconds(10) }).AsTask()))
            .ToArray();
        await LockGrainTests.WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == 3);

        // With the waiters parked, the holder's lease is cut short (a renewal to a short TTL), and every write after
        // that renewal's fails: the release, and each hand-off tried when the lease runs out. The release ends by the
        // TTL, and the holder is not held up by the failure.
        _faults.FailWrites(grain.GetGrainId(), int.MaxValue, after: 1);
        Assert.True(await grain.RenewAsync(((ManagedLease)holder).Identity.Owner, holder.FencingToken, TimeSpan.FromSeconds(2)));
        await holder.ReleaseAsync();

        foreach (var waiter in waiters)
        {
            // Not granted (nothing can be written), and not stuck: busy after the wait, or the store's failure.
            var error = await Record.ExceptionAsync(async () => Assert.Null(await waiter.WaitAsync(Bound)));
            Assert.True(error is null or LockStoreUnavailableException, $"A waiter ended with {error}.");
        }

        _faults.Heal(grain.GetGrainId());
        await using var next = await _provider.AcquireAsync(key, new LockOptions { Wait = TimeSpan.FromSeconds(30) });
        Assert.Equal(holder.FencingToken + 1, next.FencingToken);
        await next.ReleaseAsync();
        await AssertSilosStopAsync();
    }

    [Fact]
    public async Task A_parked_acquire_is_answered_when_its_wait_ends_though_the_write_that_would_grant_it_stalls()
    {
        var grain = Grain(NewKey());
        var holder = Guid.NewGuid();
        var held = await grain.AcquireAsync(new LockAcquireRequest(holder, TimeSpan.FromSeconds(60), TimeSpan.Zero));
        var parked = grain.AcquireAsync(new LockAcquireRequest(Guid.NewGuid(), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5)));
        await LockGrainTests.WaitUntilAsync(async () => (await grain.InspectAsync()).Waiters == 1);

        var write = _faults.HoldNextWrite(grain.GetGrainId());
        var releasing = grain.ReleaseAsync(holder, held.FencingToken);
        await write.Reached.WaitAsync(Bound);

        // Answered by the grain, not by the call's response timeout (a TimeoutException).
        var answer = await parked;
        Assert.NotEqual(LockAcquireStatus.Granted, answer.Status);

        // The release itself, held by the stalled write longer than its response timeout, may have timed out at the
        // caller: what counts is what the grain does once the write goes through.
        write.Proceed();
        await Record.ExceptionAsync(() => releasing);

        // A grant written for a call that had already left is given back, not left to its TTL.
        await LockGrainTests.WaitUntilAsync(async () => (await grain.InspectAsync()).Holder is null);
        var next = await grain.AcquireAsync(new LockAcquireRequest(Guid.NewGuid(), TimeSpan.FromSeconds(60), TimeSpan.Zero));
        Assert.Equal(LockAcquireStatus.Granted, next.Status);
        await AssertSilosStopAsync();
    }

    [Fact]
    public async Task Inspection_reports_the_stored_record_never_a_grant_still_being_written()
    {
        var grain = Grain(NewKey());
        var first = new LockAcquireRequest(Guid.NewGuid(), TimeSpan.FromSeconds(60), TimeSpan.Zero);

        var write = _faults.HoldNextWrite(grain.GetGrainId());
        var acquiring = grain.AcquireAsync(first);
        await write.Reached.WaitAsync(Bound);
        var whileWriting = await grain.InspectAsync();
        write.Proceed();
        var granted = await acquiring;

        Assert.Null(whileWriting.Holder);
        Assert.Equal(LockAcquireStatus.Granted, granted.Status);
        Assert.Equal(first.Owner, (await grain.InspectAsync()).Holder);

        Assert.True(await grain.ReleaseAsync(first.Owner, granted.FencingToken));
        write = _faults.HoldNextWrite(grain.GetGrainId());
        acquiring = grain.AcquireAsync(first with { Owner = Guid.NewGuid() });
        await write.Reached.WaitAsync(Bound);
        whileWriting = await grain.InspectAsync();
        write.Fail();
        await Assert.ThrowsAnyAsync<Exception>(() => acquiring);

        Assert.Null(whileWriting.Holder);
        Assert.Equal(granted.FencingToken, whileWriting.FencingToken);
        Assert.Null((await grain.InspectAsync()).Holder);
        await AssertSilosStopAsync();
    }

    private async Task AssertSilosStopAsync()
    {
        var stopping = _cluster.StopAllSilosAsync();
        var stopped = await Task.WhenAny(stopping, Task.Delay(Bound));
        Assert.True(stopped == stopping, $"The silo did not stop within {Bound}.");
        await stopping;
    }
}
