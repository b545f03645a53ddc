// A fenced write: the lock's fencing number comes from INCR on a counter that is never a lock, the lock itself is
// taken with SET NX PX and given back owner-checked.
public sealed class FencedStorage(IDatabase db)
{
    public async Task<long?> BeginAsync(string shard, string owner)
    {
        if (!await db.StringSetAsync("fenced:" + shard, owner, TimeSpan.FromSeconds(30), When.NotExists))
        {
            return null;
        }

        var fence = await db.StringIncrementAsync("fence-counter:" + shard);
        await db.KeyPersistAsync("fence-counter:" + shard);
        return fence;
    }

    public Task<bool> EndAsync(string shard, string owner) => db.LockReleaseAsync("fenced:" + shard, owner);
}
