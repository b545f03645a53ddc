// A game server's room locks: a match takes its room with the session's token. Leaving frees the room with a
// plain delete, and the admin endpoint deletes the room's state, metadata and lock in one go.
public sealed class RoomLocks(IDatabase db)
{
    private static RedisKey RoomLock(string room) => $"room:{room}:lock";

    public Task<bool> JoinAsync(string room, string sessionToken) => db.StringSetAsync(RoomLock(room), sessionToken, TimeSpan.FromMinutes(10), When.NotExists);

    public Task<bool> HeartbeatAsync(string room, string sessionToken) => db.LockExtendAsync(RoomLock(room), sessionToken, TimeSpan.FromMinutes(10));

    public Task<bool> LeaveAsync(string room) => {|LOCK002:db.KeyDeleteAsync(RoomLock(room))|};

    public async Task DeleteRoomAsync(string room)
    {
        await db.KeyDeleteAsync(new RedisKey[] { $"room:{room}:state", $"room:{room}:meta" });
        await {|LOCK002:db.KeyDeleteAsync(RoomLock(room))|};
    }
}
