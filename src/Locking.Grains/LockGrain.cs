using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Storage;

namespace Locking;

/// <summary>
/// The lock of one key. The persisted <see cref="LockRecord"/> is the source of truth: every grant, renewal and
/// release is written with the record's ETag before the reply, so when a duplicate activation exists (Orleans
/// grants single activation only eventually) the one that loses the ETag race re-reads, grants nothing and
/// deactivates. Waiters queue FIFO in the activation and are answered when the lease passes to them; a waiter whose
/// wait spans several calls keeps its place between them (<see cref="LockAcquireRequest.KeepPlace"/>).
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

    /// <summary>The waiter whose grant is being written now, if any.</summary>
    private Waiter? _granting;

    private IGrainTimer? _timer;

    /// <summary>The holder in the record was granted by another activation, on another clock: trust it <see cref="LockGrainOptions.ClockSkew"/> longer.</summary>
    private bool _inheritedHolder;

    /// <summary>No record was found: the first grant seeds the fencing counter from the clock and waits for the lock-delay.</summary>
    private bool _recordless;

    private DateTimeOffset _firstGrantNotBefore = DateTimeOffset.MinValue;

    /// <summary>How many times a release or hand-off writes the record before its failure reaches the caller.</summary>
    private const int MaxWriteAttempts = 3;

    /// <summary>
    /// The longest a call waits for the record while another call's write is under way. A storage that stalls must
    /// not hold calls until their response timeouts, nor a deactivation that waits for every running call.
    /// </summary>
    private static readonly TimeSpan TurnWait = TimeSpan.FromSeconds(4);

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
        var call = new ParkedCall(_time.GetTimestamp());
        Waiter waiter;
        if (!await _turn.WaitAsync(TurnWait, cancellationToken))
        {
            return LockAcquireResult.Retry;
        }

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
                    ? LockAcquireResult.Granted(Record.HolderToken, contended: false, _time.GetElapsedTime(call.Arrived, extendedAt))
                    : LockAcquireResult.Retry;
            }

            if (_queuedByOwner.TryGetValue(request.Owner, out var queued))
            {
                // The next call of a long wait, back for its place; or the same request again while its first call is
                // still parked (its caller timed out and retried): the new call takes over the old one's place.
                waiter = queued.Value;
                var earlier = waiter.Call;
                waiter.Call = call;
                waiter.AwayUntil = null;
                earlier?.TryAnswer(LockAcquireResult.Retry);
                await TryHandOffAsync();
            }
            else if (!IsHeld(now) && _queue.Count == 0 && now >= _firstGrantNotBefore)
            {
                var grantedAt = _time.GetTimestamp();
                var token = await GrantAsync(request.Owner, request.Ttl);
                return token is { } granted ? LockAcquireResult.Granted(granted, contended: false, _time.GetElapsedTime(call.Arrived, grantedAt)) : LockAcquireResult.Retry;
            }
            else if (wait == TimeSpan.Zero)
            {
                return LockAcquireResult.Busy;
            }
            else
            {
                waiter = new Waiter(request.Owner, request.Ttl) { Call = call };
                _queuedByOwner[request.Owner] = waiter.Node = _queue.AddLast(waiter);
                await TryHandOffAsync();
                ArmTimer();
            }
        }
        finally
        {
            _turn.Release();
        }

        // The time spent waiting for the turn counts against this call's wait: the call answers within its response timeout.
        var left = wait - _time.GetElapsedTime(call.Arrived);
        return await ParkAsync(waiter, call, left > TimeSpan.Zero ? left : TimeSpan.Zero, request.KeepPlace, cancellationToken);
    }

    /// <summary>
    /// Parks the call until the lease is written over to its waiter, or until its wait is over. Every wait here is
    /// bounded: a write that would grant it when the wait ends is given <see cref="TurnWait"/> more, then the call
    /// leaves (a storage may stall for as long as it likes); that write's author finds the call gone and ends the grant.
    /// A call that ends busy and <paramref name="keepPlace"/> leaves its waiter in the queue for the next call.
    /// </summary>
    private async Task<LockAcquireResult> ParkAsync(Waiter waiter, ParkedCall call, TimeSpan wait, bool keepPlace, CancellationToken cancellationToken)
    {
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deactivating.Token))
        {
            try
            {
                return await call.Answer.WaitAsync(wait, _time, stop.Token);
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
            {
            }

            if (_granting == waiter && !stop.IsCancellationRequested)
            {
                // The wait ended while the lease is being written over to this waiter (a lease that ends when the wait
                // does, as when a TTL is a multiple of the wait): take the answer, if the storage gives it soon enough.
                try
                {
                    return await call.Answer.WaitAsync(TurnWait, _time, stop.Token);
                }
                catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
                {
                }
            }
        }

        var cancelled = cancellationToken.IsCancellationRequested;
        var leaving = _deactivating.IsCancellationRequested ? LockAcquireResult.Retry : LockAcquireResult.Busy;
        if (call.TryAnswer(leaving))
        {
            if (waiter.Call != call)
            {
                // A newer call of the same waiter took over.
            }
            else if (keepPlace && leaving == LockAcquireResult.Busy && !cancelled)
            {
                // The next call of this wait comes at once: the place (and a lease that comes free) waits for it.
                waiter.Call = null;
                waiter.AwayUntil = _time.GetUtcNow() + _options.RejoinWindow;
                ArmTimer();
            }
            else
            {
                Withdraw(waiter);
            }

            cancellationToken.ThrowIfCancellationRequested();
            return leaving;
        }

        // Answered just before the wait ended.
        var result = await call.Answer;
        if (result.Status == LockAcquireStatus.Granted && cancellationToken.IsCancellationRequested)
        {
            // The caller is gone and will never see this grant: end it now rather than at its TTL.
            await ReleaseUndeliveredAsync(waiter.Owner, result.FencingToken);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return result;
    }

    /// <summary>Takes a waiter out of the queue.</summary>
    private void Withdraw(Waiter waiter)
    {
        if (waiter.Node is not { } node || node.List is null)
        {
            return;
        }

        _queue.Remove(node);
        waiter.Node = null;
        if (_queuedByOwner.TryGetValue(waiter.Owner, out var mapped) && mapped == node)
        {
            _queuedByOwner.Remove(waiter.Owner);
        }
    }

    public async Task<bool> RenewAsync(Guid owner, long fencingToken, TimeSpan ttl)
    {
        ValidateOwner(owner);
        ValidateTtl(ttl);
        await EnterTurnAsync();
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
        await EnterTurnAsync();
        try
        {
            return await PassOnAsync(owner, fencingToken);
        }
        finally
        {
            _turn.Release();
        }
    }

    public async Task AbandonAsync(Guid owner)
    {
        ValidateOwner(owner);
        await EnterTurnAsync();
        try
        {
            if (_queuedByOwner.TryGetValue(owner, out var node))
            {
                var waiter = node.Value;
                Withdraw(waiter);
                waiter.Call?.TryAnswer(LockAcquireResult.Busy);
                return;
            }

            if (Record.Holder == owner)
            {
                await PassOnAsync(owner, Record.HolderToken);
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

    /// <summary>
    /// Under <see cref="_turn"/>: ends the lease of (<paramref name="owner"/>, <paramref name="fencingToken"/>), or the
    /// expired or absent one in the record (its holder and token), and in the same write hands the key to the first
    /// waiter. A write that fails is tried again on the re-read record (the failure made the activation stale and sent
    /// its waiters to retry with the next activation); a grant whose call left during the write is ended at once.
    /// </summary>
    /// <returns>Whether the record showed that lease (so this call ended it).</returns>
    private async Task<bool> PassOnAsync(Guid owner, long fencingToken)
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
            DropExpiredPlaces(now);
            var next = _stale || now < _firstGrantNotBefore ? null : FirstWaiter();
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

            _granting = next;
            try
            {
                if (!await WriteAsync(before))
                {
                    ThrowIfConflictsPersist(attempt);
                    continue;
                }
            }
            catch (Exception) when (attempt < MaxWriteAttempts)
            {
                continue;
            }
            finally
            {
                _granting = null;
            }

            if (next is null || Deliver(next, nextToken, grantedAt))
            {
                ArmTimer();
                return true;
            }

            // The waiter's call left while its grant was written: nobody will take that lease, so it passes on now.
            LogUndelivered(Key, nextToken);
            (owner, fencingToken, attempt) = (next.Owner, nextToken, 0);
        }
    }

    /// <summary>Answers the waiter's parked call with the grant just written for it.</summary>
    /// <returns><see langword="false"/> when the call left (its wait ended, it was cancelled) while the grant was written.</returns>
    private bool Deliver(Waiter waiter, long fencingToken, long grantedAt)
    {
        // Waited is negative for a call that arrived after the grant (a retry that took over): its validity then starts at the grant.
        if (waiter.Call is not { } call
            || !call.TryAnswer(LockAcquireResult.Granted(fencingToken, contended: true, _time.GetElapsedTime(call.Arrived, grantedAt))))
        {
            return false;
        }

        Withdraw(waiter);
        LogGranted(Key, fencingToken, waiter.Ttl.TotalMilliseconds);
        return true;
    }

    /// <summary>Ends a grant whose caller gave up after it was answered; when the record stays busy, the provider's abandon or the TTL ends it.</summary>
    private async Task ReleaseUndeliveredAsync(Guid owner, long fencingToken)
    {
        if (!await _turn.WaitAsync(TurnWait))
        {
            return;
        }

        try
        {
            await PassOnAsync(owner, fencingToken);
        }
        catch (Exception ex)
        {
            LogUndeliveredReleaseFailed(ex, Key, fencingToken);
        }
        finally
        {
            _turn.Release();
        }
    }

    private async Task OnTimerAsync(CancellationToken cancellationToken)
    {
        if (!await _turn.WaitAsync(TurnWait, CancellationToken.None))
        {
            // A write is under way; it arms the timer again when it ends. Look again in case it does not.
            ArmTimer();
            return;
        }

        try
        {
            if (!_stale)
            {
                await HandOffAsync();
            }

            ArmTimer();
        }
        catch (Exception ex)
        {
            // The storage failed: this activation is stale and its waiters went to retry with the next one.
            LogHandOffFailed(ex, Key);
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>Under <see cref="_turn"/>: passes a key whose lease ended by itself (or never was) to the first waiter.</summary>
    private async Task HandOffAsync()
    {
        var now = _time.GetUtcNow();
        DropExpiredPlaces(now);
        if (IsHeld(now) || now < _firstGrantNotBefore || FirstWaiter() is null)
        {
            return;
        }

        await PassOnAsync(Record.Holder, Record.HolderToken);
    }

    /// <summary>Under <see cref="_turn"/>: <see cref="HandOffAsync"/> for an acquire that just joined the queue; a failure has answered the queue already.</summary>
    private async Task TryHandOffAsync()
    {
        try
        {
            await HandOffAsync();
        }
        catch (Exception ex)
        {
            LogHandOffFailed(ex, Key);
        }
    }

    /// <summary>
    /// The waiter the lease goes to next: the first in the queue, if its call is parked. While the first waiter is
    /// between two calls of its wait, the lease waits for it. The waiter stays in the queue while its grant is written,
    /// so that a failed write sends it to retry with the others.
    /// </summary>
    private Waiter? FirstWaiter() => _queue.First?.Value is { Call: not null } first ? first : null;

    /// <summary>Drops the first waiters whose next call did not come within <see cref="LockGrainOptions.RejoinWindow"/>: a client that died must not hold up the queue.</summary>
    private void DropExpiredPlaces(DateTimeOffset now)
    {
        while (_queue.First?.Value is { Call: null, AwayUntil: { } until } first && until <= now)
        {
            Withdraw(first);
            LogPlaceExpired(Key);
        }
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
        if (attempt >= MaxWriteAttempts)
        {
            throw new InconsistentStateException($"The lock record kept changing under this activation ({attempt} ETag conflicts in a row).");
        }
    }

    /// <summary>Sends every waiter to retry (with the activation that follows this one).</summary>
    private void FailQueue()
    {
        while (_queue.First?.Value is { } waiter)
        {
            Withdraw(waiter);
            waiter.Call?.TryAnswer(LockAcquireResult.Retry);
        }
    }

    /// <summary>Waits for <see cref="_turn"/>, at most <see cref="TurnWait"/>.</summary>
    private async Task EnterTurnAsync()
    {
        if (!await _turn.WaitAsync(TurnWait))
        {
            throw new TimeoutException($"The record of lock '{Key}' stayed busy with a storage write for {TurnWait.TotalSeconds:0} s: the storage is slow or stalled.");
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
        if (_queue.First?.Value is { Call: null, AwayUntil: { } until })
        {
            // The lease waits for the first waiter's next call (which hands it over itself), or for its place to expire.
            wake = until;
        }
        else if (_queue.Count > 0)
        {
            wake = Record.HasHolder && HolderEnd > _firstGrantNotBefore ? HolderEnd : _firstGrantNotBefore;
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

    [LoggerMessage(5, LogLevel.Debug, "Lock '{Key}': the call granted fencing token {FencingToken} left while the grant was written; the lease passes on")]
    private partial void LogUndelivered(string key, long fencingToken);

    [LoggerMessage(6, LogLevel.Warning, "Lock '{Key}': could not end fencing token {FencingToken}, granted to a caller that gave up; it ends by its TTL")]
    private partial void LogUndeliveredReleaseFailed(Exception error, string key, long fencingToken);

    [LoggerMessage(7, LogLevel.Warning, "Lock '{Key}': the lease could not be handed to the next waiter; the waiters retry with the next activation")]
    private partial void LogHandOffFailed(Exception error, string key);

    [LoggerMessage(8, LogLevel.Debug, "Lock '{Key}': a waiter did not come back for its place in the queue in time; the next one is served")]
    private partial void LogPlaceExpired(string key);

    [LoggerMessage(4, LogLevel.Information, "Lock '{Key}' has no record and records may have been lost recently: its first grant waits until {NotBefore:O}")]
    private partial void LogLockDelay(string key, DateTimeOffset notBefore);

    /// <summary>An acquire in the queue: its place, and the call that waits for it.</summary>
    private sealed class Waiter(Guid owner, TimeSpan ttl)
    {
        public Guid Owner { get; } = owner;

        public TimeSpan Ttl { get; } = ttl;

        /// <summary>Its place in the queue; <see langword="null"/> once it left.</summary>
        public LinkedListNode<Waiter>? Node { get; set; }

        /// <summary>The acquire call parked for this waiter; <see langword="null"/> between two calls of its wait.</summary>
        public ParkedCall? Call { get; set; }

        /// <summary>Between two calls of its wait: when its place expires unless the next call comes.</summary>
        public DateTimeOffset? AwayUntil { get; set; }
    }

    /// <summary>One acquire call, answered once: by a grant, by the grain sending it to retry, or by its own leaving.</summary>
    private sealed class ParkedCall(long arrived)
    {
        private readonly TaskCompletionSource<LockAcquireResult> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When the call reached the grain (a <see cref="TimeProvider"/> timestamp).</summary>
        public long Arrived { get; } = arrived;

        public Task<LockAcquireResult> Answer => _answer.Task;

        /// <returns><see langword="false"/> when the call was answered already.</returns>
        public bool TryAnswer(LockAcquireResult result) => _answer.TrySetResult(result);
    }
}
