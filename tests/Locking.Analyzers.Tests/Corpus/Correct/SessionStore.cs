// User sessions: created once (When.NotExists), slid on each request, released at logout. A session is not a lock,
// even though the method that ends it is called Release.
public sealed class SessionStore(IDatabase db)
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(20);

    private static RedisKey Key(string sessionId) => "session:" + sessionId;

    public async Task<string> CreateAsync(string userId)
    {
        while (true)
        {
            var sessionId = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
            if (await db.StringSetAsync(Key(sessionId), userId, Idle, When.NotExists))
            {
                return sessionId;
            }
        }
    }

    public async Task<string?> TouchAsync(string sessionId)
    {
        var user = await db.StringGetSetExpiryAsync(Key(sessionId), Idle);
        return user.HasValue ? user.ToString() : null;
    }

    public Task<bool> ReleaseSessionAsync(string sessionId) => db.KeyDeleteAsync(Key(sessionId));

    public Task<bool> KeepForeverAsync(string sessionId) => db.KeyPersistAsync(Key(sessionId));
}
