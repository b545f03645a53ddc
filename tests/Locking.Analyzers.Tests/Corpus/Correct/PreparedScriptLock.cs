// Prepared Lua scripts with named parameters (LuaScript.Prepare): @key and @token are filled from an object.
public sealed class PreparedScriptLock(IDatabase db)
{
    private static readonly LuaScript Release = LuaScript.Prepare(
        "if redis.call('get', @key) == @token then return redis.call('del', @key) else return 0 end");

    private static readonly LuaScript Renew = LuaScript.Prepare(
        "if redis.call('get', @key) == @token then return redis.call('pexpire', @key, @ttl) else return 0 end");

    public async Task<T?> WithLockAsync<T>(string resource, TimeSpan ttl, Func<Task<T>> work)
    {
        var key = (RedisKey)$"prepared:{resource}";
        var token = Guid.NewGuid().ToString("N");
        if (!await db.StringSetAsync(key, token, ttl, When.NotExists))
        {
            return default;
        }

        try
        {
            var result = await work();
            await db.ScriptEvaluateAsync(Renew, new { key, token, ttl = (long)ttl.TotalMilliseconds });
            return result;
        }
        finally
        {
            await Release.EvaluateAsync(db, new { key, token });
        }
    }
}
