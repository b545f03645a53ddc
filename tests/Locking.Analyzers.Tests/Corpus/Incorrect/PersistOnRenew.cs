// A "renew" that removes the expiry instead of extending it: if the holder dies now, the lock never expires.
public sealed class LongTask(IDatabase db)
{
    public Task<bool> StartAsync(string task, string token) => db.LockTakeAsync("long-task:" + task, token, TimeSpan.FromMinutes(1));

    public Task<bool> KeepAsync(string task) => {|LOCK004:db.KeyPersistAsync("long-task:" + task)|};

    public Task<bool> KeepOtherwiseAsync(string task) => {|LOCK004:db.KeyExpireAsync("long-task:" + task, (TimeSpan?)null)|};

    public Task<bool> DoneAsync(string task, string token) => db.LockReleaseAsync("long-task:" + task, token);
}
