// Reads the owner, then deletes: between the GET and the DEL the lock may expire and be taken by someone else.
public sealed class ReportLock(IDatabase db)
{
    public Task<bool> TakeAsync(string report, string token) => db.StringSetAsync("report-lock:" + report, token, TimeSpan.FromMinutes(3), When.NotExists);

    public async Task<bool> ReleaseAsync(string report, string token)
    {
        var key = "report-lock:" + report;
        var holder = await db.StringGetAsync(key);
        if (holder != token)
        {
            return false;
        }

        return await {|LOCK002:db.KeyDeleteAsync(key)|};
    }
}
