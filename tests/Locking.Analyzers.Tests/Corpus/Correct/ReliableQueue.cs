// A reliable work queue: items move to a per-worker processing list and are removed when done; stale processing
// lists of dead workers are requeued and deleted. List keys, not locks.
public sealed class ReliableQueue(IDatabase db, string queue, string workerId)
{
    private RedisKey Pending => $"queue:{queue}:pending";

    private RedisKey Processing => $"queue:{queue}:processing:{workerId}";

    public Task EnqueueAsync(string item) => db.ListLeftPushAsync(Pending, item);

    public async Task<string?> TakeAsync()
    {
        var item = await db.ListMoveAsync(Pending, Processing, ListSide.Right, ListSide.Left);
        return item.HasValue ? item.ToString() : null;
    }

    public Task CompleteAsync(string item) => db.ListRemoveAsync(Processing, item, 1);

    public async Task RequeueDeadWorkerAsync(string deadWorker)
    {
        RedisKey stale = $"queue:{queue}:processing:{deadWorker}";
        while ((await db.ListMoveAsync(stale, Pending, ListSide.Right, ListSide.Left)).HasValue)
        {
        }

        await db.KeyDeleteAsync(stale);
    }
}
