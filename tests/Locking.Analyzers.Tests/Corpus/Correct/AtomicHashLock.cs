// A lock kept as a field of a hash (one hash holds the locks of a shard), set and expired in one script so the
// hash never stays without a TTL; released by a script that compares the owner stored in the field.
public sealed class ShardLocks(IDatabase db, int shard)
{
    private const string TakeField = """
        if redis.call('hsetnx', KEYS[1], ARGV[1], ARGV[2]) == 1 then
            redis.call('pexpire', KEYS[1], ARGV[3])
            return 1
        end
        return 0
        """;

    private const string ReleaseField = """
        if redis.call('hget', KEYS[1], ARGV[1]) == ARGV[2] then
            return redis.call('hdel', KEYS[1], ARGV[1])
        end
        return 0
        """;

    private RedisKey Hash => $"shard-locks:{shard}";

    public async Task<string?> TryTakeAsync(string item, TimeSpan ttl)
    {
        var owner = Guid.NewGuid().ToString("N");
        var taken = (long)await db.ScriptEvaluateAsync(TakeField, new[] { Hash }, new RedisValue[] { item, owner, (long)ttl.TotalMilliseconds });
        return taken == 1 ? owner : null;
    }

    public Task ReleaseAsync(string item, string owner) => db.ScriptEvaluateAsync(ReleaseField, new[] { Hash }, new RedisValue[] { item, owner });
}
