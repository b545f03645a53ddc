// A process-wide owner made once from the host name and process id: unique per process, shared by every
// concurrent acquisition inside it.
public static class ProcessIdentity
{
    public static readonly string Value = $"{Environment.MachineName}:{Environment.ProcessId}";
}

public sealed class BillingRun(IDatabase db)
{
    public async Task<bool> RunAsync(Guid account, Func<Task> charge)
    {
        var key = (RedisKey)$"billing:{account:N}";
        if (!await db.LockTakeAsync(key, ProcessIdentity.Value, TimeSpan.FromMinutes(2)))
        {
            return false;
        }

        try
        {
            await charge();
            return true;
        }
        finally
        {
            await {|LOCK014:db.LockReleaseAsync(key, ProcessIdentity.Value)|};
        }
    }
}
