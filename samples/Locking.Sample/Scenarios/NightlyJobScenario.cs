namespace Locking.Sample.Scenarios;

/// <summary>
/// Several schedulers fire the same nightly job; OnBusy.Skip lets exactly one run it and the others return at
/// once. The job runs for more than twice its TTL, so a scheduler that fires late only skips because the lease
/// renewed itself in the background.
/// </summary>
public sealed class NightlyJobScenario(ReportJob job, Timeline timeline, TimelineLoggerProvider libraryEvents)
{
    public async Task RunAsync(Invariants invariants, CancellationToken cancellationToken)
    {
        timeline.Section($"2. four schedulers fire the nightly report — [Exclusive(\"jobs/nightly-report\", Ttl = \"{ReportJob.Ttl.TotalMilliseconds:0}ms\", Wait = \"0\", OnBusy = OnBusy.Skip)]");
        var renewalsBefore = libraryEvents.Renewals;

        async Task<bool> FireAsync(string scheduler, Func<Task> when)
        {
            await when();
            var ran = await job.RunNightlyReportAsync(scheduler, cancellationToken);
            if (!ran)
            {
                timeline.Event(scheduler, "skipped: the report is already running elsewhere");
            }

            return ran;
        }

        // Three fire together; the fourth fires once the job has run for 1.5 TTLs, so its lease only still
        // stands because it was renewed.
        Task Now() => Task.CompletedTask;
        async Task OneAndAHalfTtlsIntoTheJob()
        {
            await job.Started.WaitAsync(cancellationToken);
            await Task.Delay(ReportJob.Ttl * 1.5, cancellationToken);
        }

        var results = await Task.WhenAll(
            Task.Run(() => FireAsync("scheduler-a", Now), cancellationToken),
            Task.Run(() => FireAsync("scheduler-b", Now), cancellationToken),
            Task.Run(() => FireAsync("scheduler-c", Now), cancellationToken),
            Task.Run(() => FireAsync("scheduler-late", OneAndAHalfTtlsIntoTheJob), cancellationToken));

        var runs = results.Count(ran => ran);
        invariants.Check("nightly-job", "exactly one scheduler ran the job", runs == 1 && job.Runs == 1,
            $"{runs} ran, {results.Length - runs} skipped");
        invariants.Check("nightly-job", "the lease outlived its TTL by renewing", !results[3] && job.LeaseHeldToTheEnd,
            $"job ran {ReportJob.Length.TotalMilliseconds:0} ms on a {ReportJob.Ttl.TotalMilliseconds:0} ms TTL; the late scheduler skipped; "
            + $"{libraryEvents.Renewals - renewalsBefore} renewals logged");
    }
}

/// <summary>The nightly report: exclusive across every scheduler, skipped when another already runs it.</summary>
public sealed partial class ReportJob(ILockProvider locks, Timeline timeline)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromMilliseconds(900);
    public static readonly TimeSpan Length = Ttl * 2.2;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _runs;

    /// <summary>Completes when the report starts running.</summary>
    public Task Started => _started.Task;

    public int Runs => Volatile.Read(ref _runs);

    public bool LeaseHeldToTheEnd { get; private set; }

    /// <summary>Runs the report; returns false without running it when another scheduler holds the lease.</summary>
    [Exclusive("jobs/nightly-report", Ttl = "900ms", Wait = "0", OnBusy = OnBusy.Skip)]
    public partial Task<bool> RunNightlyReportAsync(string scheduler, CancellationToken cancellationToken);

    private async Task<bool> RunNightlyReportAsyncCore(string scheduler, LockLease lease, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _runs);
        timeline.Event(scheduler, $"runs the report under {lease.Key} (fencing {lease.FencingToken}) for {Length.TotalMilliseconds:0} ms");
        _started.TrySetResult();
        await Task.Delay(Length, cancellationToken);
        LeaseHeldToTheEnd = !lease.IsLost;
        timeline.Event(scheduler, $"report done; lease still held: {!lease.IsLost}");
        return true;
    }
}
