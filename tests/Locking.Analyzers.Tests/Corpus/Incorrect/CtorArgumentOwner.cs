// The node's name, given once to the constructor, as the owner of every tenant's lock: concurrent jobs on one
// node share it.
public sealed class TenantJobs(IDatabase db, string nodeName)
{
    public async Task<bool> RunAsync(string tenant, Func<Task> job)
    {
        var key = "tenant-job:" + tenant;
        if (!await db.LockTakeAsync(key, nodeName, TimeSpan.FromMinutes(1)))
        {
            return false;
        }

        try
        {
            await job();
            await {|LOCK014:db.LockExtendAsync(key, nodeName, TimeSpan.FromMinutes(1))|};
            return true;
        }
        finally
        {
            await {|LOCK014:db.LockReleaseAsync(key, nodeName)|};
        }
    }
}
