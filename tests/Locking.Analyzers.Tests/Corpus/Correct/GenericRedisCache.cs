// A general-purpose cache wrapper whose callers choose the keys. Add-if-missing (When.NotExists) and remove are
// cache operations here, not a lock: nothing pairs the add with the remove, whatever the parameters are called.
using System.Linq;

public sealed class RedisCacheStore(IDatabase db)
{
    public Task<bool> AddAsync(string key, string value, TimeSpan lifetime)
        => db.StringSetAsync(key, value, lifetime, When.NotExists);

    public Task SetAsync(string key, string value, TimeSpan lifetime) => db.StringSetAsync(key, value, lifetime);

    public async Task<string?> GetAsync(string key) => await db.StringGetAsync(key);

    public Task<bool> RemoveAsync(string key) => db.KeyDeleteAsync(key);

    public Task<long> RemoveAllAsync(string[] keys) => db.KeyDeleteAsync(keys.Select(k => (RedisKey)k).ToArray());

    public Task<bool> RefreshAsync(string key, TimeSpan lifetime) => db.KeyExpireAsync(key, lifetime);

    public Task<bool> ExpireNowAsync(string key) => db.KeyExpireAsync(key, TimeSpan.Zero);

    public async Task<string> GetOrAddAsync(string key, Func<Task<string>> create, TimeSpan lifetime)
    {
        var existing = await db.StringGetAsync(key);
        if (existing.HasValue)
        {
            return existing!;
        }

        var created = await create();
        if (!await db.StringSetAsync(key, created, lifetime, When.NotExists))
        {
            // Someone else added it first: theirs wins.
            return (await db.StringGetAsync(key))!;
        }

        return created;
    }
}
