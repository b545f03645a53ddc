// A "safe" lock with a compare-and-delete script whose token is the constant "1": the comparison always matches.
public sealed class InvoiceNumbering(IDatabase db)
{
    private const string Unlock = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

    public async Task<long> NextAsync(string series)
    {
        var key = $"invoice-series:{series}:lock";
        while (!await db.StringSetAsync(key, "1", TimeSpan.FromSeconds(5), When.NotExists))
        {
            await Task.Delay(20);
        }

        try
        {
            return await db.StringIncrementAsync($"invoice-series:{series}:next");
        }
        finally
        {
            await {|LOCK014:db.ScriptEvaluateAsync(Unlock, new RedisKey[] { key }, new RedisValue[] { "1" })|};
        }
    }
}
