// The acquire is written out in each method; the release goes through a private helper that deletes the key.
public sealed class InventorySync(IDatabase db)
{
    public async Task SyncStoreAsync(int store, Func<Task> sync)
    {
        RedisKey key = $"inventory-sync:{store}";
        if (!await db.StringSetAsync(key, Guid.NewGuid().ToString(), TimeSpan.FromMinutes(1), When.NotExists))
        {
            return;
        }

        try
        {
            await sync();
        }
        finally
        {
            await ReleaseAsync(key);
        }
    }

    private Task ReleaseAsync(RedisKey key) => {|LOCK002:db.KeyDeleteAsync(key, CommandFlags.FireAndForget)|};
}
