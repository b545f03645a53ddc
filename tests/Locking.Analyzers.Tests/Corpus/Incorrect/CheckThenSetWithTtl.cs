// A check-then-set "lock" with a TTL: KeyExists, then SET with expiry (two callers can both pass the check), and a
// plain DEL to release.
public sealed class AvatarResizer(IDatabase db)
{
    public async Task<bool> TryResizeAsync(string userId, Func<Task> resize)
    {
        var lockKey = "lock:avatar:" + userId;
        if (await db.KeyExistsAsync(lockKey))
        {
            return false;
        }

        await db.StringSetAsync(lockKey, Environment.MachineName, TimeSpan.FromSeconds(30));
        try
        {
            await resize();
            return true;
        }
        finally
        {
            await {|LOCK002:db.KeyDeleteAsync(lockKey)|};
        }
    }
}
