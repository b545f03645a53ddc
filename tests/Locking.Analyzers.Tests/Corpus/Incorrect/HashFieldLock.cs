// Locks as fields of one hash (HSETNX), with the expiry on the hash given afterwards.
public sealed class DeviceLocks(IDatabase db)
{
    private const string Hash = "device-locks";

    public async Task<bool> TryLockAsync(string deviceId, string owner)
    {
        if (!await {|LOCK004:db.HashSetAsync(Hash, deviceId, owner, When.NotExists)|})
        {
            return false;
        }

        await db.KeyExpireAsync(Hash, TimeSpan.FromMinutes(5));
        return true;
    }

    public async Task<bool> TryLockFieldExpiryAsync(string deviceId, string owner)
    {
        if (!await {|LOCK004:db.HashSetAsync("device-locks:v2", deviceId, owner, When.NotExists)|})
        {
            return false;
        }

        await db.HashFieldExpireAsync("device-locks:v2", new RedisValue[] { deviceId }, TimeSpan.FromMinutes(5));
        return true;
    }
}
