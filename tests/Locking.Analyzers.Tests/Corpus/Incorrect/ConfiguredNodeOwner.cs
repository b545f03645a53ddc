// The owner comes from configuration (the node's id), read through options: one value for the whole process.
public sealed class LockSettings
{
    public string NodeId { get; set; } = "node-1";
}

public sealed class PaymentCapture(IDatabase db, LockSettings settings)
{
    private readonly LockSettings _settings = settings;

    public async Task<bool> CaptureAsync(string paymentId, Func<Task> capture)
    {
        var key = "capture:" + paymentId;
        if (!await db.LockTakeAsync(key, _settings.NodeId, TimeSpan.FromSeconds(30)))
        {
            return false;
        }

        try
        {
            await capture();
            return true;
        }
        finally
        {
            await {|LOCK014:db.LockReleaseAsync(key, _settings.NodeId)|};
        }
    }
}
