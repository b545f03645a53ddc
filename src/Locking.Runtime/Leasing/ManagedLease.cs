using System.Runtime.CompilerServices;

namespace Locking;

/// <summary>
/// The lease every <see cref="LockProvider"/> hands out: it keeps the local validity clock, renews through the
/// provider's <see cref="LeaseMonitor"/>, fires <see cref="LostToken"/>, and releases once.
/// </summary>
internal sealed class ManagedLease : LockLease
{
    private readonly LockProvider _provider;
    // Also the lease's lock: a private object of this lease alone, so one allocation less than a Lock of its own.
    private readonly HeldInFlow.Entry _flow;
    // Made when LostToken is first read: a lease nobody watches costs no CancellationTokenSource.
    private CancellationTokenSource? _lost;
    private readonly Guid _owner;
    private readonly object? _storeState;
    private readonly TimeSpan _ttl;
    private readonly bool _renew;
    private readonly long _grantedAt;
    private long _validUntil;
    private long _nextRenewAt;
    private int _version;
    private bool _renewing;
    private int _released;
    private int _lostOnce;

    public ManagedLease(LockProvider provider, HeldInFlow.Entry flow, string key, Guid owner, LeaseGrant grant, TimeSpan ttl, bool renew)
        : base(key, grant.FencingToken)
    {
        _provider = provider;
        _flow = flow;
        _owner = owner;
        _storeState = grant.StoreState;
        _renew = renew;
        _ttl = ttl;
        _grantedAt = grant.RequestTimestamp;
        _validUntil = grant.RequestTimestamp + SafeTtlTicks;
        _nextRenewAt = grant.RequestTimestamp + TtlTicks / 3;
    }

    // Derived rather than stored: every field is paid for by every lease.
    private LeaseMonitor Monitor => _provider.Monitor;

    private long TtlTicks => ToTimestampTicks(_ttl, Monitor.Time);

    private long SafeTtlTicks => TtlTicks - ToTimestampTicks(DriftMargin(_ttl), Monitor.Time);

    public LeaseIdentity Identity => new(Key, _owner, FencingToken) { StoreState = _storeState };

    public TimeSpan Ttl => _ttl;

    /// <summary>How long since the successful request was sent: the hold, for telemetry.</summary>
    public TimeSpan HeldFor => Monitor.Time.GetElapsedTime(_grantedAt);

    public override CancellationToken LostToken
    {
        get
        {
            var lost = Volatile.Read(ref _lost);
            if (lost is null)
            {
                if (IsLost)
                {
                    return new CancellationToken(canceled: true);
                }

                lost = new CancellationTokenSource();
                var first = Interlocked.CompareExchange(ref _lost, lost, null);
                if (first is not null)
                {
                    lost.Dispose();
                    return first.Token;
                }

                // MarkLost may have looked for a source just before this one was published: cancel it here then.
                if (Volatile.Read(ref _lostOnce) != 0)
                {
                    lost.Cancel();
                }
            }

            return lost.Token;
        }
    }

    /// <remarks>
    /// Asks the clock, not only the monitor: on a busy machine the monitor's timer can fire late, and a holder that
    /// checks <see cref="IsLost"/> before a write must not be told "held" after its validity ran out.
    /// </remarks>
    public override bool IsLost
    {
        get
        {
            if (Volatile.Read(ref _lostOnce) != 0)
            {
                return true;
            }

            if (IsReleased || !IsOverAt(Monitor.Time.GetTimestamp()))
            {
                return false;
            }

            MarkLost(null);
            return true;
        }
    }

    public bool IsReleased => Volatile.Read(ref _released) != 0;

    /// <summary>
    /// How much earlier than the store's TTL the holder stops trusting its lease: 1 % of the TTL for clocks that run
    /// at different rates (as Redlock reasons), plus 10 ms for a timer that fires late on a busy machine.
    /// </summary>
    internal static TimeSpan DriftMargin(TimeSpan ttl) => TimeSpan.FromTicks(ttl.Ticks / 100) + TimeSpan.FromMilliseconds(10);

    private static long ToTimestampTicks(TimeSpan span, TimeProvider time) => (long)(span.Ticks * (double)time.TimestampFrequency / TimeSpan.TicksPerSecond);

    /// <summary>
    /// Starts the lease's life on the monitor. The provider gives back grants that came back after their validity
    /// before this; one whose validity runs out in between is marked lost here.
    /// </summary>
    public void Start()
    {
        Reschedule(Monitor.Time.GetTimestamp());
    }

    /// <summary>Whether the local validity is over at <paramref name="now"/> (a grant that came back later than its safe TTL).</summary>
    public bool IsOverAt(long now) => now >= Volatile.Read(ref _validUntil);

    public bool IsScheduledAs(int version) => Volatile.Read(ref _version) == version && !IsReleased;

    private void Reschedule(long now)
    {
        long due;
        int version;
        lock (_flow)
        {
            // The flag, not IsLost: the clock check below decides, and marks the loss outside the lock.
            if (IsReleased || Volatile.Read(ref _lostOnce) != 0)
            {
                return;
            }

            if (now >= _validUntil)
            {
                due = -1;
                version = 0;
            }
            else
            {
                due = _renew && !_renewing ? Math.Min(_nextRenewAt, _validUntil) : _validUntil;
                version = ++_version;
            }
        }

        if (due < 0)
        {
            MarkLost(null);
            return;
        }

        Monitor.Schedule(this, version, due);
    }

    /// <summary>Called by the monitor when this lease's entry is due.</summary>
    public void OnDue(int version, long now)
    {
        bool renewNow;
        lock (_flow)
        {
            if (version != _version || IsReleased)
            {
                return;
            }

            if (now >= _validUntil)
            {
                renewNow = false;
            }
            else
            {
                renewNow = _renew && !_renewing && now >= _nextRenewAt;
                if (renewNow)
                {
                    _renewing = true;
                }
            }
        }

        if (!renewNow)
        {
            Reschedule(now);
            return;
        }

        // Keep watching the validity while the renewal is in flight: a store that hangs must not stop LostToken.
        Reschedule(now);
        _ = RenewInBackgroundAsync();
    }

    private async Task RenewInBackgroundAsync()
    {
        var started = Monitor.Time.GetTimestamp();
        try
        {
            var renewed = await RenewCoreAsync(started, CancellationToken.None);
            if (renewed)
            {
                _provider.Telemetry.Renewed(this);
            }
        }
        catch (Exception ex)
        {
            // The store did not answer: try again soon, until the local validity runs out.
            _provider.Telemetry.RenewFailed(this, ex);
            lock (_flow)
            {
                var retryIn = Math.Max(TtlTicks / 10, ToTimestampTicks(TimeSpan.FromMilliseconds(20), Monitor.Time));
                _nextRenewAt = Monitor.Time.GetTimestamp() + retryIn;
            }
        }
        finally
        {
            lock (_flow)
            {
                _renewing = false;
            }

            Reschedule(Monitor.Time.GetTimestamp());
        }
    }

    /// <returns>Whether the store confirmed the renewal; a refusal marks the lease lost.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> RenewCoreAsync(long started, CancellationToken cancellationToken)
    {
        if (IsReleased || IsLost)
        {
            return false;
        }

        var renewed = await _provider.RenewInStoreAsync(Identity, Ttl, cancellationToken);
        if (!renewed)
        {
            MarkLost(null);
            return false;
        }

        lock (_flow)
        {
            _validUntil = Math.Max(_validUntil, started + SafeTtlTicks);
            _nextRenewAt = Math.Max(_nextRenewAt, started + TtlTicks / 3);
        }

        return !IsLost;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<bool> RenewAsync(CancellationToken cancellationToken = default)
    {
        var renewed = await RenewCoreAsync(Monitor.Time.GetTimestamp(), cancellationToken);
        if (renewed)
        {
            Reschedule(Monitor.Time.GetTimestamp());
        }

        return renewed;
    }

    private void MarkLost(Exception? cause)
    {
        if (IsReleased || Interlocked.Exchange(ref _lostOnce, 1) != 0)
        {
            return;
        }

        lock (_flow)
        {
            _version++;
        }

        // The flow no longer holds the key: acquiring it again waits for the store instead of failing as recursion.
        _flow.Leave();
        _provider.Telemetry.Lost(this, cause);
        // CancelAsync runs the callbacks off this thread: a slow callback must not stall the monitor.
        if (Volatile.Read(ref _lost) is { } lost)
        {
            _ = lost.CancelAsync();
        }
    }

    public override ValueTask ReleaseAsync(CancellationToken cancellationToken = default)
        => ReleaseCoreAsync(waitIfLost: false, cancellationToken);

    /// <summary>
    /// The provider is going away: the holder learns of the loss (LostToken fires) before the lease is released, so it
    /// never works on after its record is gone.
    /// </summary>
    public ValueTask LoseAndReleaseAsync()
    {
        MarkLost(new ObjectDisposedException(_provider.GetType().Name, "The lock provider was disposed while the lease was held."));
        return ReleaseCoreAsync(waitIfLost: true, CancellationToken.None);
    }

    /// <remarks>
    /// A lease that is already lost is released without holding the caller: its record is gone or going, and a store
    /// that cannot be reached (the usual reason for the loss) would only make the caller wait for nothing. Otherwise
    /// the caller waits for the store at most the provider's bound on a store call.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReleaseCoreAsync(bool waitIfLost, CancellationToken cancellationToken)
    {
        var lost = IsLost;
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        lock (_flow)
        {
            _version++;
        }

        _flow.Leave();
        _provider.Telemetry.Released(this);
        if (lost && !waitIfLost)
        {
            _ = ReleaseInBackgroundAsync();
            return;
        }

        try
        {
            await _provider.ReleaseBoundedAsync(Identity, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The lease ends by its TTL; a failed release must never hide the body's own exception.
            _provider.Telemetry.ReleaseFailed(this, ex);
        }
    }

    private async Task ReleaseInBackgroundAsync()
    {
        try
        {
            await _provider.ReleaseBoundedAsync(Identity, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _provider.Telemetry.ReleaseFailed(this, ex);
        }
    }
}
