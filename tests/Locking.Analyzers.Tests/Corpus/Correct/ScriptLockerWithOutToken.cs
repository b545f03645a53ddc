// A lock helper in the style of several blog posts: both steps are Lua scripts (SET ... EX ... NX to take, a
// compare-and-delete to give back), the token is a GUID handed to the caller as an out parameter, and a caller
// that wants to wait polls once a second until its deadline.
public sealed class ScriptLocker(IDatabase db)
{
    private static readonly string SetIfAbsent = "return redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX')";
    private static readonly string DeleteIfEqual = @"if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
else
    return 0
end";

    public bool Lock(string key, out string lockToken, int expirySeconds = 10, double waitSeconds = 0)
    {
        lockToken = Guid.NewGuid().ToString("N");
        var deadline = DateTime.UtcNow.AddSeconds(waitSeconds);
        do
        {
            var reply = db.ScriptEvaluate(SetIfAbsent, new RedisKey[] { "locker:" + key }, new RedisValue[] { lockToken, expirySeconds });
            if (!reply.IsNull)
            {
                return true;
            }

            Thread.Sleep(1000);
        }
        while (DateTime.UtcNow < deadline);

        return false;
    }

    public bool Unlock(string key, string lockToken)
        => (int)db.ScriptEvaluate(DeleteIfEqual, new RedisKey[] { "locker:" + key }, new RedisValue[] { lockToken }) == 1;
}
