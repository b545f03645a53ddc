// A reentrant lock for one logical flow: the owner lives in an AsyncLocal, set to a new GUID when the flow starts.
public sealed class FlowLock(IDatabase db)
{
    private static readonly AsyncLocal<string?> FlowOwner = new();

    private const string Enter = """
        if redis.call('exists', KEYS[1]) == 0 or redis.call('hget', KEYS[1], 'owner') == ARGV[1] then
            redis.call('hset', KEYS[1], 'owner', ARGV[1])
            redis.call('hincrby', KEYS[1], 'depth', 1)
            redis.call('pexpire', KEYS[1], ARGV[2])
            return 1
        end
        return 0
        """;

    public async Task<bool> EnterAsync(string resource, TimeSpan ttl)
    {
        FlowOwner.Value ??= Guid.NewGuid().ToString("N");
        var entered = await db.ScriptEvaluateAsync(Enter, new RedisKey[] { "flow-lock:" + resource }, new RedisValue[] { FlowOwner.Value, (long)ttl.TotalMilliseconds });
        return (long)entered == 1;
    }
}
