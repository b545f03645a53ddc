using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Storage;

namespace Locking;

/// <summary>
/// The lock of one key. The persisted <see cref="LockRecord"/> is the source of truth: every grant, renewal and
/// release is written with the record's ETag before the reply, so when a duplicate activation exists (Orleans
/// grants single activation only eventually) the one that loses the ETag race re-reads, grants nothing and
/// deactivates. Waiters queue FIFO in the activation and are answered when the lease passes to them.
/// </summary>
/// <remarks>
/// Acquire calls interleave (a parked waiter must not block the holder's renew or release), so every change of
/// the record runs under <see cref="_turn"/>, which spans the awaited write. Expiry runs on a non-interleaving
/// grain timer. No ConfigureAwait(false) here: every continuation must stay on the grain's scheduler.
/// </remarks>
[GrainType("locking-lock")]
internal sealed partial class LockGrain : Grain, ILockGrain
{
    private readonly IPersistentState<LockRecord> _record;

    /// <summary>
    /// A copy of the record as storage holds it (as last read or written). <see cref="Record"/> runs ahead of it while a
    /// write is under way and is rolled back if the write fails; inspection, which interleaves with writes, reads this.
    /// </summary>
    private LockRecord _stored = new();
    private readonly LockGrainOptions _options;
    private readonly RecordLossWindow _lossWindow;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly LinkedList<Waiter> _queue = new();
    private readonly Dictionary<Guid, LinkedListNode<Waiter>> _queuedByOwner = [];
    private readonly CancellationTokenSource _deactivating = new();
    private IGrainTimer? _timer;

    /// <summary>The holder in the record was granted by another activation, on another clock: trust it <see cref="LockGrainOptions.ClockSkew"/> longer.</summary>
    private bool _inheritedHolder;

    /// <summary>No record was found: the first grant seeds the fencing counter from the clock and waits for the lock-delay.</summary>
    private bool _recordless;

    private DateTimeOffset _firstGrantNotBefore = DateTimeOffset.MinValue;

    /// <summary>The record changed under this activation or a write's outcome is unknown: it grants nothing and deactivates.</summary>
    private bool _stale;

    public LockGrain(
        [PersistentState("lock", LockGrainOptions.StorageName)] IPersistentState<LockRecord> record,
        IOptions<LockGrainOptions> options,
        RecordLossWindow lossWindow,
        TimeProvider time,
        ILogger<LockGrain> logger)
    {
        _record = record;
        _options = options.Value;
        _lossWindow = lossWindow;
        _time = time;
        _logger = logger;
    }

    private LockRecord Record => _record.State;

    private string Key => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        DeactivationSignal.EnsureSubscribed();
        _stored = Record.Copy();
        if (!_record.RecordExists)
        {
            _recordless = true;
            _firstGrantNotBefore = _lossWindow.ClosesAt;
            if (_firstGrantNotBefore > _time.GetUtcNow())
            {
                LogLockDelay(Key, _firstGrantNotBefore);
            }
        }
        else
        {
            _inheritedHolder = Record.HasHolder;
        }

        _timer = this.RegisterGrainTimer(OnTimerAsync, new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan)
        {
            Interleave = false,
            KeepAlive = false,
        });
        ArmTimer();
        return Task.CompletedTask;
    }

    /// <summary>Called on the thread that starts the deactivation: parked acquires leave with <see cref="LockAcquireStatus.Retry"/>.</summary>
    internal void OnDeactivating()
    {
        try
        {
            _deactivating.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _deactivating.Cancel();
        FailQueue();
        return Task.CompletedTask;
    }

    public async Task<LockAcquireResult> AcquireAsync(LockAcquireRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidateOwner(request.Owner);
        ValidateTtl(request.Ttl);
        if (request.Wait < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Wait, $"An acquire's Wait must not be negative; it was {request.Wait}.");
        }

        var wait = request.Wait > _options.MaxWaitPerCall ? _options.MaxWaitPerCall : request.Wait;
        var arrived = _time.GetTimestamp();
        Waiter waiter;
        await _turn.WaitAsync(cancellationToken);
        try
        {
            if (_stale || _deactivating.IsCancellationRequested)
            {
                return LockAcquireResult.Retry;
            }

            var now = _time.GetUtcNow();
            if (Record.Holder == request.Owner && IsHeld(now))
            {
                // A retry of a request whose answer was lost: the same grant, its TTL counted from now.
                var extendedAt = _time.GetTimestamp();
                return await ExtendAsync(request.Ttl)
                    ? LockAcquireResult.Granted(Record.HolderToken, contended: false, _time.GetElapsedTime(arrived, extendedAt))
                    : LockAcquireResult.Retry;
            }

            if (_queuedByOwner.Remove(request.Owner, out var earlier))
            {
                // The same request again while its first call is still parked (its caller timed out and retried):
                // the new call takes the old one's place in the queue.
                waiter = new Waiter(request.Owner, request.Ttl, arrived);
                _queuedByOwner[request.Owner] = waiter.Node = _queue.AddAfter(earlier, waiter);
                _queue.Remove(earlier);
                earlier.Value.Complete(LockAcquireResult.Retry);
            }
            else if (!IsHeld(now) && _queue.Count == 0 && now >= _firstGrantNotBefore)
            {
                var grantedAt = _time.GetTimestamp();
                var token = await GrantAsync(request.Owner, request.Ttl);
                return token is { } granted ? LockAcquireResult.Granted(granted, contended: false, _time.GetElapsedTime(arrived, grantedAt)) : LockAcquireResult.Retry;
            }
            else if (wait == TimeSpan.Zero)
            {
                return LockAcquireResult.Busy;
            }
            else
            {
                waiter = new Waiter(request.Owner, request.Ttl, arrived);
                _queuedByOwner[request.Owner] = waiter.Node = _queue.AddLast(waiter);
                ArmTimer();
            }
        }
        finally
        {
            _turn.Release();
        }

        return await ParkAsync(waiter, wait, cancellationToken);
    }

    private async Task<LockAcquireResult> ParkAsync(Waiter waiter, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deactivating.Token);
        try
        {
            return await waiter.Completion.WaitAsync(wait, _time, stop.Token);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            if (Withdraw(waiter))
            {
                cancellationToken.ThrowIfCancellationRequested();
                return _deactivating.IsCancellationRequested ? LockAcquireResult.Retry : LockAcquireResult.Busy;
            }
        }

        // The lease is being written for this waiter right now: take the answer.
        var result = await waiter.Completion;
        if (result.Status == LockAcquireStatus.Granted && cancellationToken.IsCancellationRequested)
        {
            // The caller is gone and will never see this grant: end it now rather than at its TTL.
            await _turn.WaitAsync(CancellationToken.None);
            try
            {
                await ReleaseCoreAsync(waiter.Owner, result.FencingToken);
            }
            finally
            {
                _turn.Release();
            }

            cancellationToken.ThrowIfCancellationRequested();
        }

        return result;
    }

    /// <summary>Takes a still-queued waiter out of the queue.</summary>
    /// <returns><see langword="false"/> when it already left it (a grant is under way, or it was answered).</returns>
    private bool Withdraw(Waiter waiter)
    {
        if (waiter.Node is not { } node || node.List is null)
        {
            return false;
        }

        _queue.Remove(node);
        waiter.Node = null;
        if (_queuedByOwner.TryGetValue(waiter.Owner, out var mapped) && mapped == node)
        {
            _queuedByOwner.Remove(waiter.Owner);
        }

        return true;
    }

    public async Task<bool> RenewAsync(Guid owner, long fencingToken, TimeSpan ttl)
    {
        ValidateOwner(owner);
        ValidateTtl(ttl);
        await _turn.WaitAsync(CancellationToken.None);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                await RefreshIfStaleAsync();
                var now = _time.GetUtcNow();
                if (Record.Holder != owner || Record.HolderToken != fencingToken || !IsHeld(now))
                {
                    return false;
                }

                if (await ExtendAsync(ttl))
                {
                    return true;
                }

                ThrowIfConflictsPersist(attempt);
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    public async Task<bool> ReleaseAsync(Guid owner, long fencingToken)
    {
        ValidateOwner(owner);
        await _turn.WaitAsync(CancellationToken.None);
        try
        {
            return await ReleaseCoreAsync(owner, fencingToken);
        }
        finally
        {
            _turn.Release();
        }
    }

    public async Task AbandonAsync(Guid owner)
    {
        ValidateOwner(owner);
        await _turn.WaitAsync(CancellationToken.None);
        try
        {
            if (_queuedByOwner.TryGetValue(owner, out var node) && Withdraw(node.Value))
            {
                node.Value.Complete(LockAcquireResult.Busy);
                return;
            }

            if (Record.Holder == owner)
            {
                await ReleaseCoreAsync(owner, Record.HolderToken);
            }
        }
        finally
        {
            _turn.Release();
        }
    }

    public Task<LockGrainSnapshot> InspectAsync()
    {
        var now = _time.GetUtcNow();
        var stored = _stored;
        var end = _inheritedHolder ? stored.ExpiresAt + _options.ClockSkew : stored.ExpiresAt;
        var held = stored.HasHolder && now < end;
        return Task.FromResult(new LockGrainSnapshot(
            held ? stored.Holder : null,
            stored.LastToken,
            held ? end : null,
            _queue.Count,
            _firstGrantNotBefore > now ? _firstGrantNotBefore : null));
    }

    /// <summary>Under <see cref="_turn"/>: ends the lease of (owner, token) and, in the same write, hands it to the first waiter.</summary>
    private async Task<bool> ReleaseCoreAsync(Guid owner, long fencingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await RefreshIfStaleAsync();
            if (Record.Holder != owner || Record.HolderToken != fencingToken)
            {
                return false;
            }

            var grantedAt = _time.GetTimestamp();
            var now = _time.GetUtcNow();
            var before = Record.Copy();
            var next = _stale || now < _firstGrantNotBefore ? null : TakeFirstWaiter();
            long nextToken = 0;
            if (next is not null)
            {
                nextToken = SetHolder(next.Owner, next.Ttl, now);
            }
            else
            {
                Record.Holder = Guid.Empty;
                Record.HolderToken = 0;
                Record.ExpiresAt = default;
            }

            if (await WriteAsync(before))
            {
                _inheritedHolder = false;
                next?.Complete(LockAcquireResult.Granted(nextToken, contended: true, _time.GetElapsedTime(next.Arrived, grantedAt)));
                if (next is not null)
                {
                    LogGranted(Key, nextToken, next.Ttl.TotalMilliseconds);
                }

                ArmTimer();
                return true;
            }

            next?.Complete(LockAcquireResult.Retry);
            ThrowIfConflictsPersist(attempt);
        }
    }

    private async Task OnTimerAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(CancellationToken.None);
        try
        {
            if (!_stale)
            {
                await HandOffAsync();
            }

            ArmTimer();
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>Under <see cref="_turn"/>: grants the free key to the first waiter.</summary>
    private async Task HandOffAsync()
    {
        var now = _time.GetUtcNow();
        if (IsHeld(now) || now < _firstGrantNotBefore || TakeFirstWaiter() is not { } waiter)
        {
            return;
        }

        var grantedAt = _time.GetTimestamp();
        var token = await GrantAsync(waiter.Owner, waiter.Ttl);
        waiter.Complete(token is { } granted
            ? LockAcquireResult.Granted(granted, contended: true, _time.GetElapsedTime(waiter.Arrived, grantedAt))
            : LockAcquireResult.Retry);
    }

    private Waiter? TakeFirstWaiter()
    {
        if (_queue.First is not { } first)
        {
            return null;
        }

        Withdraw(first.Value);
        return first.Value;
    }

    /// <summary>Under <see cref="_turn"/>: grants the free key to <paramref name="owner"/>.</summary>
    /// <returns>The fencing token, or <see langword="null"/> when the activation turned out stale.</returns>
    private async Task<long?> GrantAsync(Guid owner, TimeSpan ttl)
    {
        var before = Record.Copy();
        var token = SetHolder(owner, ttl, _time.GetUtcNow());
        if (!await WriteAsync(before))
        {
            return null;
        }

        _inheritedHolder = false;
        ArmTimer();
        LogGranted(Key, token, ttl.TotalMilliseconds);
        return token;
    }

    private long SetHolder(Guid owner, TimeSpan ttl, DateTimeOffset now)
    {
        var token = Record.LastToken + 1;
        if (_recordless)
        {
            // The record may have existed and been lost: tokens continue above any it could have granted,
            // as long as it granted fewer than one per microsecond.
            token = Math.Max(token, now.ToUnixTimeMilliseconds() * 1000);
        }

        Record.LastToken = token;
        Record.Holder = owner;
        Record.HolderToken = token;
        Record.ExpiresAt = now + ttl;
        return token;
    }

    /// <summary>Under <see cref="_turn"/>: moves the current lease's end to <paramref name="ttl"/> from now.</summary>
    private async Task<bool> ExtendAsync(TimeSpan ttl)
    {
        var before = Record.Copy();
        Record.ExpiresAt = _time.GetUtcNow() + ttl;
        if (!await WriteAsync(before))
        {
            return false;
        }

        _inheritedHolder = false;
        ArmTimer();
        return true;
    }

    /// <summary>Writes the record with its ETag.</summary>
    /// <returns><see langword="false"/> when the stored record changed under this activation, which is now stale.</returns>
    /// <exception cref="Exception">The storage failed; the write may or may not have landed, so the activation is stale too.</exception>
    private async Task<bool> WriteAsync(LockRecord before)
    {
        var hadRecord = _record.RecordExists;
        try
        {
            await _record.WriteStateAsync();
            _stored = Record.Copy();
            _inheritedHolder = false;
            _recordless = false;
            _firstGrantNotBefore = DateTimeOffset.MinValue;
            return true;
        }
        catch (Exception ex)
        {
            Record.CopyFrom(before);
            await BecomeStaleAsync(ex, hadRecord);
            if (ex is InconsistentStateException)
            {
                return false;
            }

            throw;
        }
    }

    /// <summary>
    /// This activation's view can no longer be trusted: answer the queue with Retry (the waiters come back to the
    /// surviving activation), re-read the record so that owner-checked renewals and releases still see the truth,
    /// and deactivate.
    /// </summary>
    private async Task BecomeStaleAsync(Exception cause, bool hadRecord)
    {
        LogStale(cause, Key);
        _stale = true;
        FailQueue();
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        DeactivateOnIdle();
        await RefreshIfStaleAsync(hadRecord);
    }

    private async Task RefreshIfStaleAsync(bool? hadRecord = null)
    {
        if (!_stale)
        {
            return;
        }

        var existed = hadRecord ?? _record.RecordExists;
        try
        {
            await _record.ReadStateAsync();
        }
        catch (Exception ex)
        {
            LogRefreshFailed(ex, Key);
            throw;
        }

        _stored = Record.Copy();

        _inheritedHolder = Record.HasHolder;
        if (existed && !_record.RecordExists)
        {
            // The record vanished under a live activation: the storage lost it, and an old lease may still live.
            _lossWindow.Open($"the record of lock '{Key}' vanished");
        }
    }

    private static void ThrowIfConflictsPersist(int attempt)
    {
        if (attempt >= 3)
        {
            throw new InconsistentStateException($"The lock record kept changing under this activation ({attempt} ETag conflicts in a row).");
        }
    }

    private void FailQueue()
    {
        while (TakeFirstWaiter() is { } waiter)
        {
            waiter.Complete(LockAcquireResult.Retry);
        }
    }

    private DateTimeOffset HolderEnd => _inheritedHolder ? Record.ExpiresAt + _options.ClockSkew : Record.ExpiresAt;

    private bool IsHeld(DateTimeOffset now) => Record.HasHolder && now < HolderEnd;

    /// <summary>Wakes the timer at the next moment something can change by itself: the lease's end, or the lock-delay's.</summary>
    private void ArmTimer()
    {
        if (_timer is null || _stale)
        {
            return;
        }

        DateTimeOffset? wake = null;
        if (Record.HasHolder && _queue.Count > 0)
        {
            wake = HolderEnd;
        }
        else if (_queue.Count > 0)
        {
            wake = _firstGrantNotBefore;
        }

        if (wake is not { } at)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var due = at - _time.GetUtcNow();
        _timer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due + TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
    }

    private static void ValidateOwner(Guid owner)
    {
        if (owner == Guid.Empty)
        {
            throw new ArgumentException("The owner token must not be Guid.Empty.", nameof(owner));
        }
    }

    private void ValidateTtl(TimeSpan ttl)
    {
        if (ttl <= TimeSpan.Zero || ttl > _options.MaxTtl)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl,
                $"The lease Ttl must be positive and at most LockGrainOptions.MaxTtl ({_options.MaxTtl}); it was {ttl}. Raise MaxTtl in AddLockGrains(options => ...) for longer leases.");
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Granted lock '{Key}' with fencing token {FencingToken} for {TtlMs:0} ms")]
    private partial void LogGranted(string key, long fencingToken, double ttlMs);

    [LoggerMessage(2, LogLevel.Warning, "Lock grain '{Key}' lost its record's ETag race or could not write it; it grants nothing more and deactivates")]
    private partial void LogStale(Exception cause, string key);

    [LoggerMessage(3, LogLevel.Error, "Lock grain '{Key}' could not re-read its record")]
    private partial void LogRefreshFailed(Exception error, string key);

    [LoggerMessage(4, LogLevel.Information, "Lock '{Key}' has no record and records may have been lost recently: its first grant waits until {NotBefore:O}")]
    private partial void LogLockDelay(string key, DateTimeOffset notBefore);

    private sealed class Waiter(Guid owner, TimeSpan ttl, long arrived)
    {
        private readonly TaskCompletionSource<LockAcquireResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Guid Owner { get; } = owner;

        public TimeSpan Ttl { get; } = ttl;

        /// <summary>When the request reached the grain (a <see cref="TimeProvider"/> timestamp).</summary>
        public long Arrived { get; } = arrived;

        /// <summary>Its place in the queue; <see langword="null"/> once it left.</summary>
        public LinkedListNode<Waiter>? Node { get; set; }

        public Task<LockAcquireResult> Completion => _completion.Task;

        public void Complete(LockAcquireResult result) => _completion.TrySetResult(result);
    }
}
