// The single-instance lock as the Redis documentation describes it (SET resource token NX PX, then a Lua
// compare-and-delete to release and a compare-and-pexpire to extend), written for StackExchange.Redis.
public sealed class DocumentedRedisLock(IDatabase db)
{
    private const string DeleteIfOwner = "if redis.call(\"get\", KEYS[1]) == ARGV[1] then return redis.call(\"del\", KEYS[1]) else return 0 end";
    private const string ExtendIfOwner = "if redis.call(\"get\", KEYS[1]) == ARGV[1] then return redis.call(\"pexpire\", KEYS[1], ARGV[2]) else return 0 end";

    public async Task<string?> AcquireAsync(string resource, TimeSpan ttl)
    {
        var token = Guid.NewGuid().ToString();
        var ok = await db.ExecuteAsync("SET", $"{resource}:lock", token, "NX", "PX", (long)ttl.TotalMilliseconds);
        return ok.IsNull ? null : token;
    }

    public async Task<bool> ExtendAsync(string resource, string token, TimeSpan ttl)
        => (long)await db.ScriptEvaluateAsync(ExtendIfOwner, new RedisKey[] { $"{resource}:lock" }, new RedisValue[] { token, (long)ttl.TotalMilliseconds }) == 1;

    public async Task<bool> ReleaseAsync(string resource, string token)
        => (long)await db.ScriptEvaluateAsync(DeleteIfOwner, new RedisKey[] { $"{resource}:lock" }, new RedisValue[] { token }) == 1;
}
