// The owner is computed from the key ("{orderId}-worker"): every holder of that order's lock computes the same.
public sealed class OrderFulfilment(IDatabase db)
{
    private static string LockKey(string orderId) => "fulfil:" + orderId;

    public bool TryStart(string orderId) => db.LockTake(LockKey(orderId), orderId + "-worker", TimeSpan.FromMinutes(5));

    public bool Heartbeat(string orderId) => {|LOCK014:db.LockExtend(LockKey(orderId), orderId + "-worker", TimeSpan.FromMinutes(5))|};

    public bool Finish(string orderId) => {|LOCK014:db.LockRelease(LockKey(orderId), orderId + "-worker")|};

    public bool FinishWithKeyAsOwner(string orderId)
    {
        var key = LockKey(orderId);
        return {|LOCK014:db.LockRelease(key, key)|};
    }
}
