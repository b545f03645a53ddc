// The lock with timeouts from a Redis book chapter, for StackExchange.Redis: the acquire sets the key and its
// expiry in one command (the book's later version), and the release deletes the key in a transaction that only
// commits while the key still holds this acquirer's identifier (the book's WATCH / GET / MULTI / DEL).
public sealed class BookLock(IDatabase db)
{
    public async Task<string?> AcquireWithTimeoutAsync(string lockName, TimeSpan acquireTimeout, TimeSpan lockTimeout)
    {
        var identifier = Guid.NewGuid().ToString();
        var lockKey = "lock:" + lockName;
        var end = DateTime.UtcNow + acquireTimeout;
        while (DateTime.UtcNow < end)
        {
            if (await db.StringSetAsync(lockKey, identifier, lockTimeout, When.NotExists))
            {
                return identifier;
            }

            await Task.Delay(1);
        }

        return null;
    }

    public async Task<bool> ReleaseAsync(string lockName, string identifier)
    {
        var lockKey = "lock:" + lockName;
        var transaction = db.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual(lockKey, identifier));
        var deleted = transaction.KeyDeleteAsync(lockKey);
        return await transaction.ExecuteAsync() && await deleted;
    }
}
