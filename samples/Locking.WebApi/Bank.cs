namespace Locking.WebApi;

/// <summary>Deposits into an account, one at a time per account across every instance of the API.</summary>
public sealed partial class Bank(ILockProvider locks, AccountBook book)
{
    /// <summary>Adds <paramref name="amount"/> to the account under its lease; waits up to 30 s for a busy account.</summary>
    [Exclusive("accounts/{accountId}", Ttl = "10s", Wait = "30s")]
    public partial Task<Deposit> DepositAsync(string accountId, decimal amount, CancellationToken ct);

    private async Task<Deposit> DepositAsyncCore(string accountId, decimal amount, LockLease lease, CancellationToken ct)
    {
        using var inside = book.Enter(accountId);
        // A read, a slow call, a write: without the lease, two deposits would read the same balance and one be lost.
        var balance = book.Read(accountId).Balance;
        await Task.Delay(5, ct);
        book.Write(accountId, balance + amount, lease.FencingToken);
        return new Deposit(accountId, amount, balance + amount, lease.FencingToken);
    }
}

/// <summary>One deposit: the balance after it, and the fencing token of the lease it ran under.</summary>
public sealed record Deposit(string AccountId, decimal Amount, decimal Balance, long FencingToken);
