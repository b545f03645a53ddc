// Locking's own [Exclusive] methods around Redis data writes: the lease is Locking's, the writes are plain data.
public sealed partial class ReportBuilder(ILockProvider locks, IDatabase db)
{
    [Exclusive("reports/{tenant}/{day}", Ttl = "2m", Work = "90s", Renew = false)]
    public partial Task<int> BuildAsync(string tenant, DateOnly day, CancellationToken ct);

    private async Task<int> BuildAsyncCore(string tenant, DateOnly day, LockLease lease, CancellationToken ct)
    {
        var key = $"reports:{tenant}:{day:yyyy-MM-dd}";
        await db.KeyDeleteAsync(key);
        await db.ListRightPushAsync(key, new RedisValue[] { "header", lease.FencingToken });
        await db.KeyExpireAsync(key, TimeSpan.FromDays(30));
        return 2;
    }

    [Exclusive("reports/{tenant}/purge", OnBusy = OnBusy.Skip, Wait = "0")]
    public partial Task PurgeAsync(string tenant, CancellationToken ct);

    private async Task PurgeAsyncCore(string tenant, CancellationToken ct)
    {
        foreach (var key in new[] { $"reports:{tenant}:index", $"reports:{tenant}:latest" })
        {
            await db.KeyDeleteAsync(key);
        }
    }
}
