// A cache helper's "try lock": whoever increments the key to 1 runs the action; the expiry comes in a second call
// and the release deletes the key whoever holds it.
public sealed class CacheLocks(IDatabase cache)
{
    public async Task<T?> TryLockAsync<T>(string lockKey, Func<Task<T>> action, TimeSpan expiration)
    {
        if (await {|LOCK004:cache.StringIncrementAsync(lockKey)|} == 1)
        {
            await cache.KeyExpireAsync(lockKey, expiration);
            try
            {
                return await action();
            }
            finally
            {
                await {|LOCK002:cache.KeyDeleteAsync(lockKey)|};
            }
        }

        return default;
    }

    public bool RunOnce(string lockKey, Action action)
    {
        var attempt = {|LOCK004:cache.StringIncrement(lockKey)|};
        if (attempt != 1)
        {
            return false;
        }

        cache.KeyExpire(lockKey, TimeSpan.FromMinutes(1));
        action();
        {|LOCK002:cache.KeyDelete(lockKey)|};
        return true;
    }
}
