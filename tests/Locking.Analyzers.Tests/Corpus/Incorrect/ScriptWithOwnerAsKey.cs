// A compare-and-delete script that takes the owner as a second key (KEYS[2]), as some articles write it; the owner
// is the host address and the thread id.
public sealed class LedgerLocks(IDatabase db, string hostAddress)
{
    private const string Release = """
        if (redis.call('GET', KEYS[1]) ~= false) then
            local v = redis.call('GET', KEYS[1]);
            if (v ~= KEYS[2]) then
                return -1;
            end;
            return redis.call('DEL', KEYS[1]);
        end;
        return 0;
        """;

    public async Task<bool> PostAsync(string ledger, Func<Task> post)
    {
        var owner = hostAddress + "-" + Environment.CurrentManagedThreadId;
        if (!await db.StringSetAsync("ledger-lock:" + ledger, owner, TimeSpan.FromSeconds(20), When.NotExists))
        {
            return false;
        }

        try
        {
            await post();
            return true;
        }
        finally
        {
            await {|LOCK014:db.ScriptEvaluateAsync(Release, new RedisKey[] { "ledger-lock:" + ledger, owner })|};
        }
    }
}
