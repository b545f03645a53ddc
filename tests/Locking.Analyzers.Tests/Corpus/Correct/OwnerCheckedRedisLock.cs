// A hand-written Redis lock done right: one atomic SET NX PX, owner-checked renew and release in Lua.
public sealed class OwnerCheckedRedisLock(IDatabase db, string name)
{
    private const string ReleaseScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
            return redis.call('del', KEYS[1])
        end
        return 0
        """;

    private const string RenewScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
            return redis.call('pexpire', KEYS[1], ARGV[2])
        end
        return 0
        """;

    private readonly RedisKey _key = "lock:" + name;
    private readonly string _token = Guid.NewGuid().ToString("N");

    public Task<bool> TryAcquireAsync(TimeSpan ttl) => db.StringSetAsync(_key, _token, ttl, When.NotExists);

    public async Task<bool> RenewAsync(TimeSpan ttl)
        => (long)await db.ScriptEvaluateAsync(RenewScript, new[] { _key }, new RedisValue[] { _token, (long)ttl.TotalMilliseconds }) == 1;

    public async Task ReleaseAsync() => await db.ScriptEvaluateAsync(ReleaseScript, new[] { _key }, new RedisValue[] { _token });

    public bool ReleaseWithBuiltIn() => db.LockRelease(_key, _token);
}
