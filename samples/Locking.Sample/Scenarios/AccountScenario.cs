using System.Diagnostics;

namespace Locking.Sample.Scenarios;

/// <summary>
/// Ten workers deposit into one account at the same time. The balance is kept with a read, a pause and a write,
/// which loses updates unless exactly one deposit runs at a time: the [Exclusive] method makes it so.
/// </summary>
public sealed class AccountScenario(Bank bank, Timeline timeline)
{
    public const string AccountId = "alice";
    public const int Amount = 10;

    public async Task RunAsync(int workers, TimeSpan duration, Invariants invariants, CancellationToken cancellationToken)
    {
        timeline.Section($"1. {workers} workers deposit into accounts/{AccountId} for {duration.TotalSeconds:0.#} s — [Exclusive(\"accounts/{{accountId}}\")]");
        var deadline = timeline.Elapsed + duration;
        var deposits = 0;
        var started = Stopwatch.StartNew();

        async Task WorkAsync(string worker)
        {
            while (timeline.Elapsed < deadline)
            {
                await bank.DepositAsync(AccountId, new Deposit(worker, Amount, Stopwatch.GetTimestamp()), cancellationToken);
                var done = Interlocked.Increment(ref deposits);
                timeline.Progress($"{done} deposits by {workers} workers, {started.Elapsed.TotalSeconds:0.0}/{duration.TotalSeconds:0.0} s");
            }
        }

        await Task.WhenAll(Enumerable.Range(1, workers).Select(i => Task.Run(() => WorkAsync($"worker-{i:00}"), cancellationToken)));
        timeline.EndProgress();

        var balance = bank.Book.Balance(AccountId);
        timeline.Line($"  {deposits} deposits of {Amount} in {started.Elapsed.TotalSeconds:0.0} s; longest wait {bank.LongestWait.TotalMilliseconds:0} ms; balance {balance}");
        invariants.Check("accounts", "exactly one deposit ran at a time", bank.MostInsideAtOnce == 1,
            $"at most {bank.MostInsideAtOnce} body running at once over {deposits} deposits");
        invariants.Check("accounts", "no deposit was lost", balance == deposits * Amount,
            $"balance {balance}, expected {deposits} × {Amount} = {deposits * Amount}");
        invariants.Check("accounts", "fencing tokens rose with every holder", bank.TokensAlwaysRose && deposits > 0,
            $"{deposits} holders, tokens {bank.FirstToken} … {bank.LastToken}");
    }
}

/// <summary>A deposit request: who deposits, how much, and when it asked (to show how long it waited).</summary>
public sealed record Deposit(string Worker, int Amount, long RequestedAt);

/// <summary>The account service. Its deposit is [Exclusive] per account; the generator writes the wrapper.</summary>
public sealed partial class Bank(ILockProvider locks, AccountBook book, Timeline timeline)
{
    private readonly Lock _stats = new();
    private int _inside;

    public AccountBook Book => book;

    public int MostInsideAtOnce { get; private set; }

    public bool TokensAlwaysRose { get; private set; } = true;

    public long FirstToken { get; private set; }

    public long LastToken { get; private set; }

    public TimeSpan LongestWait { get; private set; }

    /// <summary>Deposits into the account while holding the lease "accounts/{accountId}".</summary>
    [Exclusive("accounts/{accountId}", Ttl = "10s", Wait = "infinite")]
    public partial Task DepositAsync(string accountId, Deposit deposit, CancellationToken cancellationToken);

    private async Task DepositAsyncCore(string accountId, Deposit deposit, LockLease lease, CancellationToken cancellationToken)
    {
        var inside = Interlocked.Increment(ref _inside);
        try
        {
            var waited = Stopwatch.GetElapsedTime(deposit.RequestedAt);
            lock (_stats)
            {
                MostInsideAtOnce = Math.Max(MostInsideAtOnce, inside);
                TokensAlwaysRose &= lease.FencingToken > LastToken;
                FirstToken = FirstToken == 0 ? lease.FencingToken : FirstToken;
                LastToken = lease.FencingToken;
                LongestWait = waited > LongestWait ? waited : LongestWait;
            }

            // Read, think, write: without the lock two deposits would read the same balance and one would be lost.
            var before = book.Balance(accountId);
            await Task.Delay(TimeSpan.FromMilliseconds(30), cancellationToken);
            book.Set(accountId, before + deposit.Amount);
            timeline.Event(deposit.Worker, $"waited {waited.TotalMilliseconds,4:0} ms, held {lease.Key} (fencing {lease.FencingToken}): balance {before} → {before + deposit.Amount}");
        }
        finally
        {
            Interlocked.Decrement(ref _inside);
        }
    }
}

/// <summary>An account store with no concurrency control of its own, like a row read and written back.</summary>
public sealed class AccountBook
{
    private readonly Dictionary<string, int> _balances = [];
    private readonly Lock _gate = new();

    public int Balance(string accountId)
    {
        lock (_gate)
        {
            return _balances.GetValueOrDefault(accountId);
        }
    }

    public void Set(string accountId, int balance)
    {
        lock (_gate)
        {
            _balances[accountId] = balance;
        }
    }
}
