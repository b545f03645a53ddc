// A lock service registered as a singleton: its "instance id" is made once, so every request in the process takes,
// extends and releases locks with the same owner.
public interface IResourceLocks
{
    Task<bool> TryLockAsync(string resource, TimeSpan ttl);
    Task<bool> ExtendAsync(string resource, TimeSpan ttl);
    Task UnlockAsync(string resource);
}

public sealed class RedisResourceLocks(IConnectionMultiplexer redis) : IResourceLocks
{
    private readonly IDatabase _db = redis.GetDatabase();
    private readonly string _instanceId = Guid.NewGuid().ToString("N");

    private static RedisKey Key(string resource) => $"resource-lock:{resource}";

    public Task<bool> TryLockAsync(string resource, TimeSpan ttl) => _db.LockTakeAsync(Key(resource), _instanceId, ttl);

    public Task<bool> ExtendAsync(string resource, TimeSpan ttl) => {|LOCK014:_db.LockExtendAsync(Key(resource), _instanceId, ttl)|};

    public Task UnlockAsync(string resource) => {|LOCK014:_db.LockReleaseAsync(Key(resource), _instanceId)|};
}
