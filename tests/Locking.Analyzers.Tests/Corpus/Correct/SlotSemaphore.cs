// A counting semaphore in a sorted set: each holder adds its own slot id, stale slots are trimmed, release removes
// the holder's own slot. The admin reset deletes the whole set.
public sealed class SlotSemaphore(IDatabase db, string name, int limit)
{
    private RedisKey Slots => "semaphore:" + name;

    public async Task<string?> TryEnterAsync(TimeSpan lease)
    {
        var slot = Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await db.SortedSetRemoveRangeByScoreAsync(Slots, double.NegativeInfinity, now - lease.TotalMilliseconds);
        await db.SortedSetAddAsync(Slots, slot, now);
        if (await db.SortedSetRankAsync(Slots, slot) < limit)
        {
            return slot;
        }

        await db.SortedSetRemoveAsync(Slots, slot);
        return null;
    }

    public Task<bool> ExitAsync(string slot) => db.SortedSetRemoveAsync(Slots, slot);

    public Task<bool> ResetAsync() => db.KeyDeleteAsync(Slots);
}
