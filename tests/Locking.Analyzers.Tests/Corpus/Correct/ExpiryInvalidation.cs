// Cache invalidation by expiry: KeyExpire with TimeSpan.Zero drops entries (a delete). They are cache entries, so
// that is fine; the job lock next to them is released owner-checked.
public sealed class CatalogPublisher(IDatabase db)
{
    private static readonly TimeSpan PublishLease = TimeSpan.FromMinutes(2);

    public async Task<bool> PublishAsync(string catalog, IReadOnlyList<string> productIds)
    {
        var owner = Guid.NewGuid().ToString("N");
        if (!await db.LockTakeAsync($"catalog:{catalog}:publishing", owner, PublishLease))
        {
            return false;
        }

        try
        {
            foreach (var id in productIds)
            {
                await db.KeyExpireAsync($"catalog:{catalog}:product:{id}", TimeSpan.Zero);
            }

            await db.KeyExpireAsync($"catalog:{catalog}:index", DateTime.UtcNow);
            return true;
        }
        finally
        {
            await db.LockReleaseAsync($"catalog:{catalog}:publishing", owner);
        }
    }
}
