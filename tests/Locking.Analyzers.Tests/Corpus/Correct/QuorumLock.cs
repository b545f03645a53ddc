// A quorum lock over independent Redis primaries (the Redlock idea): one token per attempt, SET NX PX on each,
// success when a majority agreed in time; every node is released with the owner-checked script either way.
public sealed class QuorumLock(IReadOnlyList<IDatabase> nodes)
{
    private const string ReleaseScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    public async Task<string?> TryAcquireAsync(string resource, TimeSpan validity)
    {
        var token = Guid.NewGuid().ToString("N");
        var key = (RedisKey)("quorum:" + resource);
        var started = DateTime.UtcNow;
        var votes = 0;
        foreach (var node in nodes)
        {
            try
            {
                if (await node.StringSetAsync(key, token, validity, When.NotExists))
                {
                    votes++;
                }
            }
            catch (RedisConnectionException)
            {
                // A node that cannot be reached does not vote.
            }
        }

        var elapsed = DateTime.UtcNow - started;
        if (votes > nodes.Count / 2 && elapsed < validity * 0.9)
        {
            return token;
        }

        await ReleaseAsync(resource, token);
        return null;
    }

    public async Task ReleaseAsync(string resource, string token)
    {
        foreach (var node in nodes)
        {
            try
            {
                await node.ScriptEvaluateAsync(ReleaseScript, new RedisKey[] { "quorum:" + resource }, new RedisValue[] { token });
            }
            catch (RedisConnectionException)
            {
                // Its copy expires on its own.
            }
        }
    }
}
