using System.Collections.Concurrent;

namespace Locking.WebApi;

/// <summary>
/// Account balances in memory, standing in for a database that the deposit reads and writes in two steps. It also
/// counts how many deposits of an account run at once, so that the lock's effect can be seen (and tested).
/// </summary>
public sealed class AccountBook
{
    private readonly ConcurrentDictionary<string, Account> _accounts = new(StringComparer.Ordinal);

    public AccountView Read(string accountId)
    {
        var account = _accounts.GetOrAdd(accountId, static _ => new Account());
        lock (account)
        {
            return new AccountView(accountId, account.Balance, account.Deposits, account.MostAtOnce, account.LastFencingToken);
        }
    }

    public void Write(string accountId, decimal balance, long fencingToken)
    {
        var account = _accounts.GetOrAdd(accountId, static _ => new Account());
        lock (account)
        {
            account.Balance = balance;
            account.Deposits++;
            account.LastFencingToken = fencingToken;
        }
    }

    /// <summary>Counts a deposit as running until the result is disposed.</summary>
    public IDisposable Enter(string accountId)
    {
        var account = _accounts.GetOrAdd(accountId, static _ => new Account());
        lock (account)
        {
            account.Running++;
            account.MostAtOnce = Math.Max(account.MostAtOnce, account.Running);
        }

        return new Exit(account);
    }

    private sealed class Account
    {
        public decimal Balance;
        public int Deposits;
        public int Running;
        public int MostAtOnce;
        public long LastFencingToken;
    }

    private sealed class Exit(Account account) : IDisposable
    {
        public void Dispose()
        {
            lock (account)
            {
                account.Running--;
            }
        }
    }
}

/// <summary>An account as the API shows it: <see cref="MostAtOnce"/> is the most deposits that ever ran at once.</summary>
public sealed record AccountView(string AccountId, decimal Balance, int Deposits, int MostAtOnce, long LastFencingToken);
