// A lazily made process-wide owner: a GUID, but one for the whole process.
public sealed class FeedPoller(IDatabase db)
{
    private static readonly Lazy<string> ProcessToken = new(() => Guid.NewGuid().ToString("N"));

    public async Task PollAsync(string feed, Func<Task> poll)
    {
        var key = $"poll:{feed}";
        if (await db.StringSetAsync(key, ProcessToken.Value, TimeSpan.FromSeconds(20), When.NotExists))
        {
            try
            {
                await poll();
            }
            finally
            {
                await {|LOCK014:db.StringDeleteAsync(key, ValueCondition.Equal(ProcessToken.Value))|};
            }
        }
    }
}
