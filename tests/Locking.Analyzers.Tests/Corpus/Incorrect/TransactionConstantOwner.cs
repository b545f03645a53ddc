// An owner-checked release in a transaction whose owner is the word "locked": the condition always holds.
public sealed class WarehouseSync(IDatabase db)
{
    private const string Locked = "locked";

    public Task<bool> BeginAsync(int warehouse) => db.StringSetAsync($"warehouse:{warehouse}:sync", Locked, TimeSpan.FromMinutes(15), When.NotExists);

    public async Task<bool> EndAsync(int warehouse)
    {
        var tran = db.CreateTransaction();
        tran.AddCondition({|LOCK014:Condition.StringEqual($"warehouse:{warehouse}:sync", Locked)|});
        _ = tran.KeyDeleteAsync($"warehouse:{warehouse}:sync");
        _ = tran.StringSetAsync($"warehouse:{warehouse}:synced-at", DateTime.UtcNow.Ticks);
        return await tran.ExecuteAsync();
    }
}
