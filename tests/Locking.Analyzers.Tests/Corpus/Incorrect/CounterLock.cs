// A lock made of a counter: whoever increments to 1 holds it; the expiry comes in a second command.
public sealed class NightlyExport(IDatabase db)
{
    public async Task<bool> TryRunAsync(DateOnly night, Func<Task> export)
    {
        var key = $"lock:export:{night:yyyyMMdd}";
        if (await {|LOCK004:db.StringIncrementAsync(key)|} != 1)
        {
            return false;
        }

        await db.KeyExpireAsync(key, TimeSpan.FromHours(1));
        try
        {
            await export();
            return true;
        }
        finally
        {
            await {|LOCK002:db.KeyDeleteAsync(key)|};
        }
    }
}
