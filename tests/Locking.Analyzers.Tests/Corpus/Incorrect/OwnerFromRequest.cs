// The owner is the order id from the request, and so is the key.
public sealed record CheckoutRequest(string OrderId, string CustomerId);

public sealed class Checkout(IDatabase db)
{
    public async Task<bool> CheckoutAsync(CheckoutRequest request, Func<Task> pay)
    {
        var key = $"checkout:{request.OrderId}";
        if (!await db.LockTakeAsync(key, request.OrderId, TimeSpan.FromSeconds(60)))
        {
            return false;
        }

        try
        {
            await pay();
            return true;
        }
        finally
        {
            await {|LOCK014:db.LockReleaseAsync(key, request.OrderId)|};
        }
    }
}
