// An outbox dispatcher: one dispatcher per partition at a time, the token per dispatch round, renewed each batch.
public sealed class OutboxDispatcher(IDatabase db, Func<int, Task<int>> dispatchBatch)
{
    public async Task DispatchAsync(int partition, CancellationToken ct)
    {
        var key = "outbox:" + partition + ":dispatcher";
        var round = Guid.NewGuid().ToByteArray();
        if (!await db.LockTakeAsync(key, round, TimeSpan.FromSeconds(20)))
        {
            return;
        }

        try
        {
            while (!ct.IsCancellationRequested && await dispatchBatch(partition) > 0)
            {
                if (!await db.LockExtendAsync(key, round, TimeSpan.FromSeconds(20)))
                {
                    break;
                }
            }
        }
        finally
        {
            await db.LockReleaseAsync(key, round);
        }
    }
}
