// A general lock helper of a shared library: callers pass their keys and tokens; its release forgets the token.
public sealed class RedisLockHelper(IConnectionMultiplexer connection)
{
    private IDatabase Db => connection.GetDatabase();

    public Task<bool> AcquireLockAsync(string key, string token, TimeSpan expiry) => Db.LockTakeAsync(key, token, expiry);

    public Task<bool> ExtendLockAsync(string key, string token, TimeSpan expiry) => Db.LockExtendAsync(key, token, expiry);

    public Task<bool> ReleaseLockAsync(string key) => {|LOCK002:Db.KeyDeleteAsync(key)|};

    public bool Unlock(string key) => {|LOCK002:Db.KeyDelete(key)|};

    public async Task<T> WithLockAsync<T>(string key, TimeSpan expiry, Func<Task<T>> action)
    {
        var token = Guid.NewGuid().ToString();
        while (!await AcquireLockAsync(key, token, expiry))
        {
            await Task.Delay(100);
        }

        try
        {
            return await action();
        }
        finally
        {
            await ReleaseLockAsync(key);
        }
    }
}
