// Leases that outlive their work.
public sealed class LeakyJobs(ILockProvider locks)
{
    public async Task RunAsync(string job)
    {
        var lease = await {|LOCK001:locks.AcquireAsync("jobs/" + job)|};
        await Task.Delay(10);
        await lease.ReleaseAsync();
    }

    public async Task FireAndForgetAsync(string job)
    {
        await {|LOCK001:locks.AcquireAsync("jobs/" + job)|};
        await Task.Delay(10);
    }

    public async Task<bool> IsBusyAsync(string job) => await {|LOCK001:locks.TryAcquireAsync("jobs/" + job)|} is null;
}
