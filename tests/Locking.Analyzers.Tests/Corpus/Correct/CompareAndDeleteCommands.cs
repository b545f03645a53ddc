// Redis 8.4's compare-and-delete and compare-and-set, through StackExchange.Redis's ValueCondition: a lock without
// Lua. The token is new for each acquisition and travels with the handle.
public sealed class CasLock(IDatabase db)
{
    public sealed record Handle(string Resource, string Token);

    private static RedisKey KeyOf(string resource) => "cas-lock:" + resource;

    public async Task<Handle?> TryTakeAsync(string resource, TimeSpan lease)
    {
        var handle = new Handle(resource, Guid.NewGuid().ToString("N"));
        return await db.StringSetAsync(KeyOf(resource), handle.Token, new Expiration(lease), ValueCondition.NotExists) ? handle : null;
    }

    public Task<bool> RenewAsync(Handle handle, TimeSpan lease)
        => db.StringSetAsync(KeyOf(handle.Resource), handle.Token, new Expiration(lease), ValueCondition.Equal(handle.Token));

    public Task<bool> ReleaseAsync(Handle handle) => db.StringDeleteAsync(KeyOf(handle.Resource), ValueCondition.Equal(handle.Token));
}
