// An account "lock" that is a flag, not a mutex: an administrator locks a player's account for a while (a plain SET
// with the duration as its TTL), and unlocks it by deleting the flag. Nobody contends for it, so no owner to check.
public sealed class AccountModeration(IDatabase db)
{
    private const string AccountLockPrefix = "player:lock:";

    private static string AccountLockKey(string playerId) => $"{AccountLockPrefix}{playerId}";

    public async Task LockAccountAsync(string playerId, string reason, TimeSpan duration)
    {
        string lockKey = AccountLockKey(playerId);
        await db.StringSetAsync(lockKey, $"{reason}|{DateTime.UtcNow.Add(duration):O}", duration);
        await db.KeyDeleteAsync("player:" + playerId + ":sessions");
    }

    public async Task<bool> IsLockedAsync(string playerId) => await db.KeyExistsAsync(AccountLockKey(playerId));

    public async Task UnlockAccountAsync(string playerId)
    {
        string lockKey = AccountLockKey(playerId);
        await db.KeyDeleteAsync(lockKey);
    }
}
