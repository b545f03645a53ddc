using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Locking;

/// <summary>
/// The lease lifecycle every store shares: argument checks, same-flow reentrancy detection, the local
/// validity clock, renewal on one scheduler, release of acquires that completed after the caller gave up,
/// logging and metrics. A store implements only the three store operations.
/// </summary>
public abstract class LockProvider : ILockProvider, IAsyncDisposable
{
    /// <summary>The longest key, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    private readonly LeaseMonitor _monitor;
    private int _disposed;

    /// <summary>Creates the provider.</summary>
    /// <param name="storeName">A short name of the store for logs and metrics ("redis", "orleans").</param>
    /// <param name="logger">Where failures to renew or release are logged.</param>
    /// <param name="timeProvider">The clock of the local validity and of renewal; <see cref="TimeProvider.System"/> by default.</param>
    protected LockProvider(string storeName, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storeName);
        TimeProvider = timeProvider ?? TimeProvider.System;
        Telemetry = new LockTelemetry(storeName, logger ?? NullLogger.Instance);
        _monitor = new LeaseMonitor(TimeProvider);
    }

    /// <summary>The clock of this provider.</summary>
    protected TimeProvider TimeProvider { get; }

    internal LockTelemetry Telemetry { get; }

    /// <summary>
    /// Whether this provider's logs name lock keys and its acquire spans carry them as <c>locking.key</c>. Default
    /// <see langword="true"/>. Turn it off when keys carry personal data (<c>"users/{email}"</c>): logs then say
    /// "(key hidden)", and the fencing token still tells one lease from another. Metrics never carry keys. A provider
    /// registered with <c>AddLocking</c> takes it from <see cref="LockingTelemetryOptions.IncludeKeys"/>.
    /// </summary>
    public bool IncludeKeysInTelemetry
    {
        get => Telemetry.IncludeKeys;
        set => Telemetry.IncludeKeys = value;
    }

    internal LeaseMonitor Monitor => _monitor;

    /// <inheritdoc />
    public ValueTask<LockLease?> TryAcquireAsync(string key, LockOptions? options = null, CancellationToken cancellationToken = default)
    {
        // Not async up to here: the flow mark must land in the caller's execution context.
        options ??= LockOptions.Default;
        Validate(key, options);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var flow = HeldInFlow.Enter(this, key);
        return AcquireCoreAsync(key, options, flow, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<LockLease> AcquireAsync(string key, LockOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= LockOptions.Default;
        var started = TimeProvider.GetTimestamp();
        var lease = TryAcquireAsync(key, options, cancellationToken);
        if (!lease.IsCompletedSuccessfully)
        {
            return OrThrowAsync(lease, key, started);
        }

        return lease.Result is { } held
            ? ValueTask.FromResult(held)
            : ValueTask.FromException<LockLease>(new LockNotAcquiredException(key, TimeProvider.GetElapsedTime(started)));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<LockLease> OrThrowAsync(ValueTask<LockLease?> pending, string key, long started)
        => await pending ?? throw new LockNotAcquiredException(key, TimeProvider.GetElapsedTime(started));

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<LockLease?> AcquireCoreAsync(string key, LockOptions options, HeldInFlow.Entry flow, CancellationToken cancellationToken)
    {
        // Only what the code after the await reads is kept in the state machine: a box per acquire in flight.
        var started = TimeProvider.GetTimestamp();
        using var activity = Telemetry.StartAcquire(key);
        ManagedLease? lease = null;
        try
        {
            for (var lateGrants = 0; ; lateGrants++)
            {
                LeaseGrant? grant;
                var owner = OwnerToken.New();
                try
                {
                    grant = await AcquireInStoreAsync(new LeaseRequest(key, owner, options.Ttl, WaitLeft(options.Wait, started)), cancellationToken);
                }
                catch (Exception ex) when (ex is not (LockException or OperationCanceledException or ArgumentException or ObjectDisposedException))
                {
                    throw new LockStoreUnavailableException(key, ex);
                }

                if (grant is not { } granted)
                {
                    flow.Leave();
                    Telemetry.NotAcquired(key, TimeProvider.GetElapsedTime(started), activity);
                    return null;
                }

                lease = new ManagedLease(this, flow, key, owner, granted, options.Ttl, options.Renew);
                if (cancellationToken.IsCancellationRequested)
                {
                    // The caller gave up while the grant was on its way: never leak it to its TTL.
                    await lease.ReleaseAsync(CancellationToken.None);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (!lease.IsOverAt(TimeProvider.GetTimestamp()))
                {
                    break;
                }

                // The answer took longer than the lease's safe TTL to come back (a stalled store or network): the grant is
                // worth nothing to the caller, and a slow store is not a busy key. Give it back (the flow keeps its mark)
                // and ask again: within the wait, and once even when the wait is zero.
                Telemetry.LateGrant(lease);
                await ReleaseQuietlyAsync(lease.Identity);
                lease = null;
                if (lateGrants >= MaxLateGrants || (WaitLeft(options.Wait, started) == TimeSpan.Zero && lateGrants > 0))
                {
                    flow.Leave();
                    Telemetry.NotAcquired(key, TimeProvider.GetElapsedTime(started), activity);
                    return null;
                }
            }

            Telemetry.Acquired(lease, TimeProvider.GetElapsedTime(started), activity);
            lease.Start();
            return lease;
        }
        catch (Exception ex)
        {
            if (lease is null)
            {
                flow.Leave();
            }

            Telemetry.AcquireFailed(TimeProvider.GetElapsedTime(started), ex, activity);
            throw;
        }
    }

    /// <summary>How many grants that came back too late to be of use one acquire gives back before it says not acquired.</summary>
    private const int MaxLateGrants = 3;

    /// <summary>What is left of <paramref name="wait"/> since <paramref name="started"/>: zero when spent, infinite stays infinite.</summary>
    private TimeSpan WaitLeft(TimeSpan wait, long started)
    {
        if (wait == Timeout.InfiniteTimeSpan || wait == TimeSpan.Zero)
        {
            return wait;
        }

        var left = wait - TimeProvider.GetElapsedTime(started);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>Releases a lease that was never handed out; a failure leaves it to its TTL and is logged.</summary>
    private async ValueTask ReleaseQuietlyAsync(LeaseIdentity lease)
    {
        try
        {
            await ReleaseBoundedAsync(lease, CancellationToken.None);
        }
        catch (Exception ex)
        {
            Telemetry.ReleaseFailed(lease.Key, lease.FencingToken, ex);
        }
    }

    /// <summary>
    /// Acquires the lease in the store, waiting up to <see cref="LeaseRequest.Wait"/> for a busy key.
    /// </summary>
    /// <returns>The grant, or <see langword="null"/> when the key was still busy after the wait.</returns>
    /// <remarks>
    /// When this throws (cancelled, store unreachable), no lease may be left in the store: a request whose answer
    /// is abandoned must release what it may have been granted. Any exception that is not a
    /// <see cref="LockException"/> or a cancellation reaches the caller as <see cref="LockStoreUnavailableException"/>.
    /// </remarks>
    protected abstract ValueTask<LeaseGrant?> AcquireInStoreAsync(LeaseRequest request, CancellationToken cancellationToken);

    /// <summary>Extends the lease to <paramref name="ttl"/> from now if <see cref="LeaseIdentity.Owner"/> still holds it.</summary>
    /// <returns><see langword="false"/> when the lease is gone; throws when the store cannot say.</returns>
    protected internal abstract ValueTask<bool> RenewInStoreAsync(LeaseIdentity lease, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Ends the lease if <see cref="LeaseIdentity.Owner"/> still holds it, and wakes the key's waiters.</summary>
    protected internal abstract ValueTask ReleaseInStoreAsync(LeaseIdentity lease, CancellationToken cancellationToken);

    /// <summary>
    /// The longest a release may hold its caller before the lease is left to end by its TTL (the caller is never held
    /// by a store that does not answer); <see langword="null"/> for a store whose calls bound themselves. Default 5 s.
    /// </summary>
    protected virtual TimeSpan? StoreCallBound => TimeSpan.FromSeconds(5);

    /// <summary>A release in the store that holds its caller no longer than <see cref="StoreCallBound"/>.</summary>
    internal ValueTask ReleaseBoundedAsync(LeaseIdentity lease, CancellationToken cancellationToken)
    {
        var release = ReleaseInStoreAsync(lease, cancellationToken);
        return release.IsCompleted || StoreCallBound is not { } bound
            ? release
            : new ValueTask(release.AsTask().WaitAsync(bound, TimeProvider, cancellationToken));
    }

    /// <summary>Records that an acquire found its key held by another owner (the contention metric).</summary>
    protected void RecordContention(string key) => Telemetry.Contended(key);

    private static void Validate(string key, LockOptions options)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new ArgumentException($"A lock key must contain a non-white-space character; it was '{key}'.", nameof(key));
        }

        if (key.Length > MaxKeyBytes / 3 && Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
        {
            throw new ArgumentException($"A lock key may be at most {MaxKeyBytes} UTF-8 bytes; '{key[..40]}...' has {Encoding.UTF8.GetByteCount(key)}.", nameof(key));
        }

        if (key.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') && UnpairedSurrogateAt(key) is { } at)
        {
            // UTF-8 has no bytes for half a pair: it would encode as U+FFFD, the same as every other lone half.
            throw new ArgumentException(
                $"A lock key must be well-formed UTF-16; the one given has an unpaired surrogate \\u{(int)key[at]:X4} at index {at}, " +
                "which would encode to the same bytes as other keys.",
                nameof(key));
        }

        options.Validate();
    }

    private static int? UnpairedSurrogateAt(string key)
    {
        for (var i = 0; i < key.Length; i++)
        {
            if (char.IsHighSurrogate(key[i]) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(key[i]))
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>
    /// Stops renewal and releases every lease still held through this provider. Each holder learns of the loss first:
    /// its <see cref="LockLease.LostToken"/> fires and <see cref="LockLease.IsLost"/> is true before its record goes.
    /// </summary>
    public virtual async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var held = _monitor.Snapshot();
        _monitor.Dispose();
        var releases = new Task[held.Count];
        for (var i = 0; i < held.Count; i++)
        {
            releases[i] = held[i].LoseAndReleaseAsync().AsTask();
        }

        await Task.WhenAll(releases);
        GC.SuppressFinalize(this);
    }
}
