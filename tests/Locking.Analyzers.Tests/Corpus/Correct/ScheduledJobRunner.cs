// A SaaS scheduler: every node wakes up each minute and tries to run the due jobs; one run per job at a time.
// Each run takes its own token, renews the lease while the job runs, and gives it back owner-checked.
public sealed class ScheduledJobRunner(IDatabase db, TimeProvider clock)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    public async Task<bool> RunOnceAsync(string jobName, Func<CancellationToken, Task> job, CancellationToken ct)
    {
        var lockKey = $"scheduler:job:{jobName}";
        var runToken = $"{Environment.MachineName}:{Guid.NewGuid():N}";
        if (!await db.LockTakeAsync(lockKey, runToken, Lease))
        {
            return false;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var heartbeat = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(Lease / 3, clock, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                if (!stop.IsCancellationRequested && !await db.LockExtendAsync(lockKey, runToken, Lease))
                {
                    await stop.CancelAsync();
                }
            }
        }, CancellationToken.None);

        try
        {
            await job(stop.Token);
            return true;
        }
        finally
        {
            await stop.CancelAsync();
            await heartbeat;
            await db.LockReleaseAsync(lockKey, runToken);
        }
    }
}
