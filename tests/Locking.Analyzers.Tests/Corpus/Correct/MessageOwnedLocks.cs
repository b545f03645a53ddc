// A message handler locks the aggregate a message touches; the owner is the message's own id, unique per delivery.
public sealed record Envelope(Guid MessageId, string AggregateId, string Body);

public sealed class AggregateHandler(IDatabase db)
{
    public async Task<bool> HandleAsync(Envelope message, Func<Envelope, Task> apply)
    {
        var key = "aggregate-lock:" + message.AggregateId;
        var owner = message.MessageId.ToString("N");
        if (!await db.LockTakeAsync(key, owner, TimeSpan.FromSeconds(30)))
        {
            return false;
        }

        try
        {
            await apply(message);
            return true;
        }
        finally
        {
            await db.LockReleaseAsync(key, owner);
        }
    }
}
