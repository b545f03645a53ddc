// "Releasing" by expiring the key now: an expiry that has already passed deletes the key, whoever holds it.
public sealed class PrinterQueue(IDatabase db)
{
    private static RedisKey PrinterLock(string printer) => "printer-lock:" + printer;

    public async Task<bool> PrintAsync(string printer, string document, string token)
    {
        if (!await db.LockTakeAsync(PrinterLock(printer), token, TimeSpan.FromMinutes(1)))
        {
            return false;
        }

        try
        {
            await db.ListRightPushAsync("printer:" + printer + ":jobs", document);
            return true;
        }
        finally
        {
            await {|LOCK002:db.KeyExpireAsync(PrinterLock(printer), TimeSpan.Zero)|};
        }
    }

    public Task<bool> ResetAsync(string printer) => {|LOCK002:db.KeyExpireAsync(PrinterLock(printer), DateTime.UtcNow.AddMinutes(-1))|};
}
