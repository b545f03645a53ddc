// The lock from a thousand blog posts: SET NX, then EXPIRE, then DEL whoever holds it.
public sealed class NaiveRedisLock(IDatabase db)
{
    public async Task<bool> AcquireAsync(string resource, TimeSpan ttl)
    {
        var acquired = await {|LOCK004:db.StringSetAsync("locks:" + resource, Environment.MachineName, null, When.NotExists)|};
        if (acquired)
        {
            await db.KeyExpireAsync("locks:" + resource, ttl);
        }

        return acquired;
    }

    public Task ReleaseAsync(string resource) => {|LOCK002:db.KeyDeleteAsync("locks:" + resource)|};
}
