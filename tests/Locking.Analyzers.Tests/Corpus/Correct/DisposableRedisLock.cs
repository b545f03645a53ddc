// A lock handle that disposes to release: the token lives in the handle, made when the handle is.
public sealed class RedisLockHandle : IAsyncDisposable
{
    private readonly IDatabase _db;
    private readonly RedisKey _key;
    private readonly RedisValue _token = Guid.NewGuid().ToString("N");

    private RedisLockHandle(IDatabase db, RedisKey key)
    {
        _db = db;
        _key = key;
    }

    public static async Task<RedisLockHandle?> TryTakeAsync(IDatabase db, string resource, TimeSpan ttl)
    {
        var handle = new RedisLockHandle(db, "handle-lock:" + resource);
        return await db.LockTakeAsync(handle._key, handle._token, ttl) ? handle : null;
    }

    public Task<bool> RenewAsync(TimeSpan ttl) => _db.LockExtendAsync(_key, _token, ttl);

    public async ValueTask DisposeAsync() => await _db.LockReleaseAsync(_key, _token);
}
