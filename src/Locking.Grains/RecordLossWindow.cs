using System.Collections.Immutable;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Locking;

/// <summary>
/// The silo's memory of when the lock grain storage may last have lost records. An activation that finds no
/// record cannot tell a fresh key from a lost one; it waits until <see cref="ClosesAt"/> (the last possible
/// loss plus the lock-delay) before its first grant, and grants at once when that moment is past.
/// </summary>
internal sealed partial class RecordLossWindow
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _delay;
    private readonly ILogger _logger;
    private long _closesAtUtcTicks;

    public RecordLossWindow(IOptions<LockGrainOptions> options, TimeProvider time, ILogger<RecordLossWindow> logger)
    {
        _time = time;
        _delay = options.Value.EffectiveLockDelay;
        _logger = logger;
        if (options.Value.RecordLoss.HasFlag(LockRecordLoss.SiloStart))
        {
            Open("the silo started");
        }
    }

    /// <summary>The earliest moment a record-less activation may grant.</summary>
    public DateTimeOffset ClosesAt => new(Interlocked.Read(ref _closesAtUtcTicks), TimeSpan.Zero);

    /// <summary>Records that records may have been lost now.</summary>
    public void Open(string reason)
    {
        var closesAt = (_time.GetUtcNow() + _delay).UtcTicks;
        long seen;
        do
        {
            seen = Interlocked.Read(ref _closesAtUtcTicks);
            if (seen >= closesAt)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _closesAtUtcTicks, closesAt, seen) != seen);

        LogOpened(reason, _delay.TotalMilliseconds);
    }

    [LoggerMessage(1, LogLevel.Information, "Lock grain records may have been lost ({Reason}): keys without a record wait {DelayMs:0} ms before their first grant")]
    private partial void LogOpened(string reason, double delayMs);
}

/// <summary>Opens the <see cref="RecordLossWindow"/> whenever a silo leaves the cluster, for storages whose records leave with it.</summary>
internal sealed class SiloDepartureWatcher(IClusterMembershipService membership, RecordLossWindow window, IOptions<LockGrainOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RecordLoss.HasFlag(LockRecordLoss.SiloDeparture))
        {
            return;
        }

        ImmutableDictionary<SiloAddress, ClusterMember>? previous = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                if (previous is not null)
                {
                    foreach (var (silo, member) in snapshot.Members)
                    {
                        var before = previous.TryGetValue(silo, out var was) ? was.Status : SiloStatus.None;
                        if (IsGone(member.Status) && !IsGone(before) && before != SiloStatus.None)
                        {
                            window.Open($"silo {silo} is {member.Status}");
                        }
                    }
                }

                previous = snapshot.Members;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static bool IsGone(SiloStatus status) => status is SiloStatus.ShuttingDown or SiloStatus.Stopping or SiloStatus.Dead;
}
