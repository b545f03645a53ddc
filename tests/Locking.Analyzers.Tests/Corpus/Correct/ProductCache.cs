// A read-through cache: it sets, adds-if-missing and deletes its own keys. None of that is a lock.
public sealed class ProductCache(IConnectionMultiplexer redis)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly IDatabase _db = redis.GetDatabase();

    private static RedisKey Key(int productId) => $"product:{productId}";

    public async Task<string?> GetAsync(int productId, Func<int, Task<string>> load)
    {
        var cached = await _db.StringGetAsync(Key(productId));
        if (cached.HasValue)
        {
            return cached;
        }

        var json = await load(productId);
        await _db.StringSetAsync(Key(productId), json, Lifetime, When.NotExists);
        return json;
    }

    public Task PutAsync(int productId, string json) => _db.StringSetAsync(Key(productId), json, Lifetime);

    public Task<bool> InvalidateAsync(int productId) => _db.KeyDeleteAsync(Key(productId));

    public void InvalidateMany(IEnumerable<int> productIds)
    {
        var keys = new List<RedisKey>();
        foreach (var id in productIds)
        {
            keys.Add(Key(id));
        }

        _db.KeyDelete(keys.ToArray());
    }

    public Task TouchAsync(int productId) => _db.KeyExpireAsync(Key(productId), Lifetime);
}
