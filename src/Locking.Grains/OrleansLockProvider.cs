using Microsoft.Extensions.Logging;

namespace Locking;

/// <summary>
/// An <see cref="ILockProvider"/> on Orleans lock grains (one <see cref="ILockGrain"/> per key), with the same lease
/// lifecycle as every other store: a local validity clock, renewal every Ttl/3, <see cref="LockLease.LostToken"/>,
/// release on dispose. Works from a silo (its <see cref="IGrainFactory"/>) and from an external
/// <see cref="IClusterClient"/>; the silos need <see cref="LockGrainsSiloBuilderExtensions.AddLockGrains(Orleans.Hosting.ISiloBuilder, Action{LockGrainOptions}?)"/>.
/// </summary>
/// <remarks>
/// A wait longer than <see cref="OrleansLockProviderOptions.WaitPerCall"/> is sent as several acquire calls of
/// the same owner, each parked in the grain's queue; every call but the last asks the grain to keep the waiter's place
/// (<see cref="LockAcquireRequest.KeepPlace"/>), so the wait stays first come, first served across calls. A lost reply
/// or a moved activation is answered by sending the same request again, which the grain answers with the same grant.
/// A waiter sends one call per <see cref="OrleansLockProviderOptions.WaitPerCall"/> of waiting, plus a few with backoff
/// when the grain cannot answer.
/// </remarks>
public sealed class OrleansLockProvider : LockProvider
{
    private readonly IGrainFactory _grains;
    private readonly OrleansLockProviderOptions _options;

    /// <summary>Creates the provider.</summary>
    /// <param name="grains">The grain factory: a silo's, or an <see cref="IClusterClient"/>.</param>
    /// <param name="options">Wait chunking and retry pacing; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Where failures to renew or release are logged.</param>
    /// <param name="timeProvider">The clock of the local validity and of renewal; <see cref="TimeProvider.System"/> by default.</param>
    public OrleansLockProvider(IGrainFactory grains, OrleansLockProviderOptions? options = null, ILogger<OrleansLockProvider>? logger = null, TimeProvider? timeProvider = null)
        : base("orleans", logger, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(grains);
        options ??= new OrleansLockProviderOptions();
        options.Validate();
        _grains = grains;
        _options = options;
    }

    private ILockGrain Grain(string key) => _grains.GetGrain<ILockGrain>(key);

    /// <inheritdoc />
    protected override async ValueTask<LeaseGrant?> AcquireInStoreAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        var grain = Grain(request.Key);
        var started = TimeProvider.GetTimestamp();
        var infinite = request.Wait == Timeout.InfiniteTimeSpan;
        var contentionRecorded = false;
        var backoff = _options.RetryDelay;
        var failures = 0;
        while (true)
        {
            var left = infinite ? TimeSpan.MaxValue : request.Wait - TimeProvider.GetElapsedTime(started);
            var wait = left <= TimeSpan.Zero ? TimeSpan.Zero : left < _options.WaitPerCall ? left : _options.WaitPerCall;

            // Another call follows this one if it ends busy: the grain keeps the place for it.
            var placeKept = left > wait;
            var sent = TimeProvider.GetTimestamp();
            LockAcquireResult result;
            try
            {
                result = await grain.AcquireAsync(new LockAcquireRequest(request.Owner, request.Ttl, wait) { KeepPlace = placeKept }, cancellationToken);
            }
            catch (Exception ex) when (ex is not (ArgumentException or LockException))
            {
                var timeLeft = infinite || TimeProvider.GetElapsedTime(started) < request.Wait;
                if (cancellationToken.IsCancellationRequested || (!timeLeft && failures > 0) || ex is OperationCanceledException)
                {
                    // The grain may have granted before the caller gave up: withdraw the request so nothing leaks.
                    await AbandonQuietlyAsync(grain, request.Owner);
                    throw;
                }

                // A lost reply, a silo that died, an activation on the move: the same request again is answered
                // with the same grant if the first one got through.
                failures++;
                await BackOffAsync();
                continue;
            }

            switch (result.Status)
            {
                case LockAcquireStatus.Granted:
                    if (result.Contended && !contentionRecorded)
                    {
                        RecordContention(request.Key);
                    }

                    // The grain counts the TTL from the grant, which came no earlier than the send plus the time
                    // the grain held the request (negative when the grant was written before this call arrived): a
                    // lease that waited long is not born expired, and none is trusted from before its grant.
                    var waitedTicks = (long)(result.Waited.Ticks * (double)TimeProvider.TimestampFrequency / TimeSpan.TicksPerSecond);
                    return new LeaseGrant(result.FencingToken, sent + waitedTicks);

                case LockAcquireStatus.Busy:
                    if (!contentionRecorded)
                    {
                        contentionRecorded = true;
                        RecordContention(request.Key);
                    }

                    // A call that asked the grain to keep the place is followed by one more, also when the wait ran
                    // out meanwhile (that one tries once and gives the place up): a place is never left to expire.
                    if (!infinite && !placeKept && TimeProvider.GetElapsedTime(started) >= request.Wait)
                    {
                        return null;
                    }

                    backoff = _options.RetryDelay;
                    break;

                default:
                    // The activation was stale or deactivating: the request goes to its successor, within the wait.
                    if (!infinite && TimeProvider.GetElapsedTime(started) >= request.Wait && failures++ > 0)
                    {
                        return null;
                    }

                    await BackOffAsync();
                    break;
            }
        }

        async Task BackOffAsync()
        {
            await Task.Delay(backoff, TimeProvider, cancellationToken);
            backoff = backoff * 2 < _options.MaxRetryDelay ? backoff * 2 : _options.MaxRetryDelay;
        }
    }

    private async Task AbandonQuietlyAsync(ILockGrain grain, Guid owner)
    {
        try
        {
            await grain.AbandonAsync(owner).WaitAsync(_options.AbandonTimeout, TimeProvider);
        }
        catch (Exception)
        {
            // Unreachable: whatever was granted ends by its TTL.
        }
    }

    /// <inheritdoc />
    protected internal override async ValueTask<bool> RenewInStoreAsync(LeaseIdentity lease, TimeSpan ttl, CancellationToken cancellationToken)
        => await Grain(lease.Key).RenewAsync(lease.Owner, lease.FencingToken, ttl).WaitAsync(cancellationToken);

    /// <inheritdoc />
    protected internal override async ValueTask ReleaseInStoreAsync(LeaseIdentity lease, CancellationToken cancellationToken)
        => await Grain(lease.Key).ReleaseAsync(lease.Owner, lease.FencingToken).WaitAsync(cancellationToken);
}

/// <summary>How an <see cref="OrleansLockProvider"/> talks to the lock grains.</summary>
public sealed record OrleansLockProviderOptions
{
    /// <summary>
    /// The longest one acquire call waits in a grain's queue; a longer wait is sent as several calls. At most 10 s,
    /// well below the call's 15 s response timeout, and capped by the silo's <see cref="LockGrainOptions.MaxWaitPerCall"/>.
    /// Default 5 s.
    /// </summary>
    public TimeSpan WaitPerCall { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The first pause before an acquire is sent again after a failed call; doubled on each failure. Default 50 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest pause between retries of a failed acquire call. Default 1 s.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long withdrawing an acquire the caller gave up on may take before the lease is left to its TTL. Default 5 s.</summary>
    public TimeSpan AbandonTimeout { get; init; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        if (WaitPerCall <= TimeSpan.Zero || WaitPerCall > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentOutOfRangeException(nameof(WaitPerCall), WaitPerCall, $"OrleansLockProviderOptions.WaitPerCall must be positive and at most 10 s (the call's response timeout is 15 s); it was {WaitPerCall}.");
        }

        if (RetryDelay <= TimeSpan.Zero || MaxRetryDelay < RetryDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, $"OrleansLockProviderOptions.RetryDelay must be positive and at most MaxRetryDelay ({MaxRetryDelay}); it was {RetryDelay}.");
        }

        if (AbandonTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(AbandonTimeout), AbandonTimeout, $"OrleansLockProviderOptions.AbandonTimeout must be positive; it was {AbandonTimeout}.");
        }
    }
}
