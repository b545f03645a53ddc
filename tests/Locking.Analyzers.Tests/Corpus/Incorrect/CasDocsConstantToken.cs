// The compare-and-delete example from the client's documentation pasted as is, placeholder token included: every
// caller "owns" the lock.
public sealed class ReportExporter(IDatabase db)
{
    private const string LockToken = "my-unique-lock-token";

    public async Task<bool> ExportAsync(Func<Task> export)
    {
        if (!await db.StringSetAsync("resource:lock", LockToken, new Expiration(TimeSpan.FromMinutes(1)), ValueCondition.NotExists))
        {
            return false;
        }

        try
        {
            await export();
        }
        finally
        {
            await {|LOCK014:db.StringDeleteAsync("resource:lock", when: ValueCondition.Equal(LockToken))|};
        }

        return true;
    }
}
