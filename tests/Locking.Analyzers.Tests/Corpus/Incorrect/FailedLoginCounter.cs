// A failed-login counter: INCR, and on the first failure an expiry in a second call. A crash in between keeps the
// account locked out for good. The reset on success is a counter reset, not a lock release.
public sealed class LoginThrottle(IDatabase db)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    public async Task<bool> IsLockedOutAsync(string user)
    {
        var failures = await db.StringGetAsync("login-failures:" + user);
        return failures.HasValue && (long)failures >= 5;
    }

    public async Task RecordAsync(string user, bool succeeded)
    {
        var key = "login-failures:" + user;
        if (succeeded)
        {
            await db.KeyDeleteAsync(key);
            return;
        }

        var count = await {|LOCK004:db.StringIncrementAsync(key)|};
        if (count == 1)
        {
            await db.KeyExpireAsync(key, Window);
        }
    }
}
