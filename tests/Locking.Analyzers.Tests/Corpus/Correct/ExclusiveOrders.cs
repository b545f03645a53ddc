// [Exclusive] methods with parameter and constant keys, nesting in one consistent order.
public sealed record Order(Guid Id, string Customer, decimal Total);

public sealed partial class OrderService(ILockProvider locks)
{
    [Exclusive("orders/{order.Id}", Ttl = "30s", Wait = "5s")]
    public partial Task<bool> ChargeAsync(Order order, CancellationToken ct);

    private async Task<bool> ChargeAsyncCore(Order order, LockLease lease, CancellationToken ct)
    {
        await AuditAsync(order.Customer, ct);
        return lease.FencingToken > 0;
    }

    [Exclusive("customers/{customer}/audit")]
    public partial Task AuditAsync(string customer, CancellationToken ct);

    private Task AuditAsyncCore(string customer, CancellationToken ct) => Task.CompletedTask;

    [Exclusive("orders/{orderId}", OnBusy = OnBusy.Skip, Wait = "0")]
    public partial Task RefundAsync(Guid orderId, Guid replacementId, CancellationToken ct);

    private async Task RefundAsyncCore(Guid orderId, Guid replacementId, CancellationToken ct)
    {
        await AuditAsync("refunds", ct);
        await RefundAsync(replacementId, Guid.Empty, ct);
    }

    [Exclusive("reports/daily", Ttl = "5m", Work = "2m")]
    public partial void BuildDailyReport();

    private void BuildDailyReportCore(CancellationToken ct) => ct.ThrowIfCancellationRequested();
}
