// Fixed-window and sliding-window rate limits. Counters are not locks: they are incremented, expired and reset.
public sealed class RequestRateLimiter(IDatabase db)
{
    private const string CountInWindow = """
        local count = redis.call('incr', KEYS[1])
        if count == 1 then
            redis.call('pexpire', KEYS[1], ARGV[1])
        end
        return count
        """;

    public async Task<bool> AllowAsync(string client, int limit, TimeSpan window)
    {
        var bucket = DateTime.UtcNow.Ticks / window.Ticks;
        var count = (long)await db.ScriptEvaluateAsync(CountInWindow, new RedisKey[] { $"rate:{client}:{bucket}" }, new RedisValue[] { (long)window.TotalMilliseconds });
        return count <= limit;
    }

    public async Task<bool> AllowSlidingAsync(string client, int limit, TimeSpan window)
    {
        var key = $"rate:sliding:{client}";
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var batch = db.CreateBatch();
        _ = batch.SortedSetRemoveRangeByScoreAsync(key, 0, now - (long)window.TotalMilliseconds);
        var added = batch.SortedSetAddAsync(key, Guid.NewGuid().ToString("N"), now);
        var counted = batch.SortedSetLengthAsync(key);
        _ = batch.KeyExpireAsync(key, window);
        batch.Execute();
        await added;
        return await counted <= limit;
    }

    public Task<bool> ResetAsync(string client) => db.KeyDeleteAsync($"rate:sliding:{client}");
}
