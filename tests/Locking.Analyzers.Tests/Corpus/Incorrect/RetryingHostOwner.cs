// Waits for the lock in a retry loop and renews it from a timer; the owner is the host and process.
public sealed class ReportGenerator(IDatabase db)
{
    public async Task GenerateAsync(string report, Func<Task> build)
    {
        var owner = $"{System.Net.Dns.GetHostName()}:{Environment.ProcessId}";
        var key = "report-gen:" + report;
        while (!await db.LockTakeAsync(key, owner, TimeSpan.FromSeconds(20)))
        {
            await Task.Delay(250);
        }

        using var renew = new Timer(_ => {|LOCK014:db.LockExtend(key, owner, TimeSpan.FromSeconds(20))|}, null, 5000, 5000);
        try
        {
            await build();
        }
        finally
        {
            {|LOCK014:db.LockRelease(key, owner)|};
        }
    }
}
