// The LockTake / LockRelease usage from a much-quoted Q&A answer: the machine name as the lock token. Two requests
// on the same host share it, so a request whose lock ran out releases or extends the next request's lock.
public sealed class ImportJob(IConnectionMultiplexer redis)
{
    private readonly IDatabase _db = redis.GetDatabase();

    public async Task<int> ImportAsync(string feed, IAsyncEnumerable<string> rows)
    {
        RedisKey key = "import:" + feed;
        RedisValue token = Environment.MachineName;
        var duration = TimeSpan.FromSeconds(30);
        if (!await _db.LockTakeAsync(key, token, duration))
        {
            return 0;
        }

        var count = 0;
        try
        {
            await foreach (var row in rows)
            {
                await _db.ListRightPushAsync("import:" + feed + ":rows", row);
                if (++count % 1000 == 0 && !await {|LOCK014:_db.LockExtendAsync(key, token, duration)|})
                {
                    throw new InvalidOperationException("lost the import lock");
                }
            }

            return count;
        }
        finally
        {
            await {|LOCK014:_db.LockReleaseAsync(key, token)|};
        }
    }
}
