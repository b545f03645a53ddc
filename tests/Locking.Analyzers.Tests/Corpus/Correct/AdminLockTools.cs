// An operator tool that breaks a stuck lock on purpose. The plain delete is the point, so the warning is
// suppressed where it happens, with the reason next to it.
public sealed class LockAdministration(IDatabase db)
{
    public Task<bool> TryTakeAsync(string name, string token) => db.LockTakeAsync("lock:" + name, token, TimeSpan.FromMinutes(1));

    public Task<bool> ReleaseAsync(string name, string token) => db.LockReleaseAsync("lock:" + name, token);

    public async Task<bool> BreakAsync(string name, string operatorName)
    {
        await db.ListLeftPushAsync("lock-audit", $"{DateTime.UtcNow:O} {operatorName} broke lock:{name}");
#pragma warning disable LOCK002 // operator action: break the lock whoever holds it; the holder's work is fenced
        return await db.KeyDeleteAsync("lock:" + name);
#pragma warning restore LOCK002
    }
}
