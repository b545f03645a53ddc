// A body called without its lock, a body that takes its own key, and two bodies nesting in opposite orders.
public sealed partial class Accounts(ILockProvider locks)
{
    [Exclusive("accounts/{account}")]
    public partial Task DebitAsync(string account, decimal amount, CancellationToken ct);

    private async Task DebitAsyncCore(string account, decimal amount, CancellationToken ct)
    {
        await {|LOCK012:NotifyAsync(account, ct)|};
        await {|LOCK013:CloseAsync("ledger-" + account, ct)|};
    }

    [Exclusive("accounts/{account}")]
    public partial Task NotifyAsync(string account, CancellationToken ct);

    private Task NotifyAsyncCore(string account, CancellationToken ct) => Task.CompletedTask;

    [Exclusive("journals/{journal}")]
    public partial Task CloseAsync(string journal, CancellationToken ct);

    private async Task CloseAsyncCore(string journal, CancellationToken ct)
        => await {|LOCK013:DebitAsync("suspense", 0m, ct)|};

    public Task QuickDebitAsync(string account) => {|LOCK010:DebitAsyncCore(account, 1m, CancellationToken.None)|};
}
