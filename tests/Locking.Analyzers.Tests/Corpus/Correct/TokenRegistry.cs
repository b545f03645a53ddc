// A lock client that remembers the token of each lock it holds, so release and renew need only the resource.
public sealed class TrackedLocks(IDatabase db)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _held = new();

    private static RedisKey Key(string resource) => "tracked:" + resource;

    public async Task<bool> TryLockAsync(string resource, TimeSpan ttl)
    {
        var token = Guid.NewGuid().ToString("N");
        if (!await db.LockTakeAsync(Key(resource), token, ttl))
        {
            return false;
        }

        _held[resource] = token;
        return true;
    }

    public Task<bool> RenewAsync(string resource, TimeSpan ttl)
        => _held.TryGetValue(resource, out var token) ? db.LockExtendAsync(Key(resource), token, ttl) : Task.FromResult(false);

    public async Task<bool> UnlockAsync(string resource)
        => _held.TryRemove(resource, out var token) && await db.LockReleaseAsync(Key(resource), token);
}
