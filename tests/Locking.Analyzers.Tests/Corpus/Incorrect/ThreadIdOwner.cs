// "IP + thread id" as the owner, as some articles suggest for thread-per-request servers. In async .NET code a
// thread serves many requests, and the release may even run on another thread than the acquire.
public sealed class StockReservation(IDatabase db, string hostAddress)
{
    private string Owner => hostAddress + ":" + Environment.CurrentManagedThreadId;

    public async Task<bool> ReserveAsync(string sku, int quantity)
    {
        var key = $"stock:{sku}:lock";
        if (!await db.StringSetAsync(key, Owner, TimeSpan.FromSeconds(10), When.NotExists))
        {
            return false;
        }

        try
        {
            await db.HashIncrementAsync($"stock:{sku}", "reserved", quantity);
            return true;
        }
        finally
        {
            await {|LOCK014:db.StringDeleteAsync(key, ValueCondition.Equal(Owner))|};
        }
    }
}
