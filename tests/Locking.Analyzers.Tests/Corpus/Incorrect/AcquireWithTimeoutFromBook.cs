// The acquire-with-timeout of a Redis book chapter, before the book moves to SET NX PX: SETNX, then EXPIRE, and a
// waiter that finds a lock without a TTL gives it one. The window between SETNX and EXPIRE stays.
public sealed class AccountLocks(IDatabase db)
{
    public async Task<string?> AcquireLockWithTimeoutAsync(string lockName, TimeSpan acquireTimeout, TimeSpan lockTimeout)
    {
        var identifier = Guid.NewGuid().ToString();
        var lockKey = "lock:" + lockName;
        var end = DateTime.UtcNow + acquireTimeout;
        while (DateTime.UtcNow < end)
        {
            if (await {|LOCK004:db.StringSetAsync(lockKey, identifier, null, When.NotExists)|})
            {
                await db.KeyExpireAsync(lockKey, lockTimeout);
                return identifier;
            }

            if (await db.KeyTimeToLiveAsync(lockKey) is null)
            {
                await db.KeyExpireAsync(lockKey, lockTimeout);
            }

            await Task.Delay(1);
        }

        return null;
    }

    public async Task<bool> ReleaseLockAsync(string lockName, string identifier)
    {
        var transaction = db.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual("lock:" + lockName, identifier));
        _ = transaction.KeyDeleteAsync("lock:" + lockName);
        return await transaction.ExecuteAsync();
    }
}
