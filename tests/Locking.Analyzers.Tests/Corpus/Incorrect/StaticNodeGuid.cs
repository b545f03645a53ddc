// A cron node with a GUID made once at start-up, used as the owner of every job lock it takes.
public sealed class CronNode(IDatabase db)
{
    private static readonly Guid NodeGuid = Guid.NewGuid();

    public async Task<bool> TryRunAsync(string job, Func<Task> run)
    {
        var key = $"cron:{job}:running";
        if (!await db.StringSetAsync(key, NodeGuid.ToString(), TimeSpan.FromMinutes(10), When.NotExists))
        {
            return false;
        }

        try
        {
            await run();
            return true;
        }
        finally
        {
            await {|LOCK014:db.StringDeleteAsync(key, ValueCondition.Equal(NodeGuid.ToString()))|};
        }
    }
}
