// Schema migrations per tenant, one migrator at a time. The release runs in a transaction that only commits while
// the lock still holds this migration's token (WATCH under the hood), so a late migrator cannot free a newer one.
public sealed class TenantMigrationLock(IDatabase db)
{
    private static RedisKey LockKey(Guid tenant) => $"tenants:{tenant:N}:migration-lock";

    public async Task<string?> TryBeginAsync(Guid tenant, TimeSpan lease)
    {
        var token = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        return await db.StringSetAsync(LockKey(tenant), token, lease, When.NotExists) ? token : null;
    }

    public async Task<bool> EndAsync(Guid tenant, string token)
    {
        var transaction = db.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual(LockKey(tenant), token));
        _ = transaction.KeyDeleteAsync(LockKey(tenant));
        _ = transaction.StringSetAsync($"tenants:{tenant:N}:migrated-at", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        return await transaction.ExecuteAsync();
    }

    public async Task<bool> ExtendAsync(Guid tenant, string token, TimeSpan lease)
    {
        var transaction = db.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual(LockKey(tenant), token));
        _ = transaction.KeyExpireAsync(LockKey(tenant), lease);
        return await transaction.ExecuteAsync();
    }
}
