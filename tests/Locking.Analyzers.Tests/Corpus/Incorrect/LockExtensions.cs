// Lock helpers as extension methods on IDatabase, shared by several services: the release deletes the key.
public static class RedisLockExtensions
{
    public static Task<bool> AcquireLockAsync(this IDatabase db, string lockKey, string lockValue, TimeSpan expiry)
        => db.StringSetAsync(lockKey, lockValue, expiry, When.NotExists);

    public static Task<bool> ReleaseLockAsync(this IDatabase db, string lockKey) => {|LOCK002:db.KeyDeleteAsync(lockKey)|};
}

public sealed class ShipmentService(IDatabase db)
{
    public async Task ShipAsync(string shipmentId)
    {
        if (await db.AcquireLockAsync("shipment:" + shipmentId, Guid.NewGuid().ToString(), TimeSpan.FromSeconds(30)))
        {
            try
            {
                await db.StringSetAsync("shipment:" + shipmentId + ":status", "shipped");
            }
            finally
            {
                await db.ReleaseLockAsync("shipment:" + shipmentId);
            }
        }
    }
}
