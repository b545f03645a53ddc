// A lock whose acquire is a compact Lua script (f = redis.call, k = KEYS[1]: "if the key is taken, give up; else set
// it and expire it"), and whose release expires the key right away: whoever holds it then.
public sealed class RequestCollapser(IConnectionMultiplexer redis)
{
    private const string TakeIfFree = "local f,k,v f=redis.call k=KEYS[1] v=ARGV[1] if f('get',k) then return 0 end f('set',k,v) f('expire',k,ARGV[2]) return 1";

    public bool TryLock(string key, TimeSpan ttl)
    {
        RedisKey[] keys = { key };
        RedisValue[] args = { Guid.NewGuid().ToString("N"), (int)ttl.TotalSeconds };
        return (int)redis.GetDatabase().ScriptEvaluate(TakeIfFree, keys, args) == 1;
    }

    public void ReleaseLock(string key) => {|LOCK002:redis.GetDatabase().KeyExpire(key, TimeSpan.Zero)|};
}
