// A prepared script releases only while the lock holds @owner, and @owner is the machine name.
public sealed class SearchIndexer(IDatabase db)
{
    private static readonly LuaScript ReleaseIfOwner = LuaScript.Prepare(
        "if redis.call('GET', @lockKey) == @owner then return redis.call('DEL', @lockKey) end return 0");

    public async Task ReindexAsync(string index, Func<Task> rebuild)
    {
        RedisKey lockKey = "reindex:" + index;
        if (!await db.StringSetAsync(lockKey, Environment.MachineName, TimeSpan.FromMinutes(5), When.NotExists))
        {
            return;
        }

        try
        {
            await rebuild();
        }
        finally
        {
            await {|LOCK014:ReleaseIfOwner.EvaluateAsync(db, new { lockKey, owner = Environment.MachineName })|};
        }
    }
}
