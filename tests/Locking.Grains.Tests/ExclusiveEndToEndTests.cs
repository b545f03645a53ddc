using Orleans.Concurrency;

namespace Locking.Grains.Tests;

/// <summary>[Exclusive] methods, implemented by the Locking generator, running against the lock grains.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ExclusiveEndToEndTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Exclusive_methods_on_an_external_client_never_interleave_their_bodies()
    {
        var ledger = new Ledger(fixture.Provider);
        var account = $"acct-{Guid.NewGuid():N}";

        var receipts = await Task.WhenAll(Enumerable.Range(1, 24).Select(amount => Task.Run(() => ledger.DepositAsync(account, amount, CancellationToken.None))));

        Assert.Equal(Enumerable.Range(1, 24).Sum(), ledger.Balance(account));
        Assert.Equal(0, ledger.Overlaps);
        var tokens = receipts.Select(r => r.FencingToken).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 24).Select(i => tokens[0] + i), tokens);
    }

    [Fact]
    public async Task OnBusy_Skip_returns_default_without_running_the_body_while_the_key_is_held()
    {
        var ledger = new Ledger(fixture.Provider);
        var account = $"acct-{Guid.NewGuid():N}";
        await using var held = await LockGrainTests.HoldAsync(fixture.Provider, $"accounts/{account}");

        var audited = await ledger.TryAuditAsync(account);

        Assert.Null(audited);
        Assert.Equal(0, ledger.Audits);
    }

    [Fact]
    public async Task Exclusive_methods_inside_grains_use_the_silo_provider_registered_by_UseOrleans()
    {
        var account = $"acct-{Guid.NewGuid():N}";
        var tellers = Enumerable.Range(0, 6).Select(i => fixture.Cluster.Client.GetGrain<ITellerGrain>($"teller-{i}-{account}")).ToArray();

        var tokens = await Task.WhenAll(tellers.SelectMany(teller => Enumerable.Range(0, 3).Select(_ => teller.PostAsync(account))));

        Assert.Equal(18, tokens.Distinct().Count());
        Assert.Equal(0, TellerGrain.Overlaps);
        Assert.Equal(18, TellerGrain.Posted(account));
    }
}

public sealed record Receipt(string Account, int Balance, long FencingToken);

/// <summary>User code: a balance read, awaited and written back, correct only under the lock.</summary>
public sealed partial class Ledger(ILockProvider locks)
{
    private readonly Dictionary<string, int> _balances = [];
    private int _inside;
    private int _overlaps;
    private int _audits;

    public int Overlaps => _overlaps;

    public int Audits => _audits;

    public int Balance(string account)
    {
        lock (_balances)
        {
            return _balances.GetValueOrDefault(account);
        }
    }

    [Exclusive("accounts/{account}", Ttl = "10s", Wait = "30s")]
    public partial Task<Receipt> DepositAsync(string account, int amount, CancellationToken cancellationToken);

    private async Task<Receipt> DepositAsyncCore(string account, int amount, LockLease lease, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _inside) != 1)
        {
            Interlocked.Increment(ref _overlaps);
        }

        var balance = Balance(account);
        await Task.Yield();
        lock (_balances)
        {
            _balances[account] = balance + amount;
        }

        Interlocked.Decrement(ref _inside);
        return new Receipt(account, balance + amount, lease.FencingToken);
    }

    [Exclusive("accounts/{account}", Wait = "0", OnBusy = OnBusy.Skip)]
    public partial Task<Receipt?> TryAuditAsync(string account);

    private Task<Receipt?> TryAuditAsyncCore(string account, LockLease lease)
    {
        Interlocked.Increment(ref _audits);
        return Task.FromResult<Receipt?>(new Receipt(account, Balance(account), lease.FencingToken));
    }
}

[Alias("Locking.Grains.Tests.ITellerGrain")]
public interface ITellerGrain : IGrainWithStringKey
{
    [Alias("Post")]
    Task<long> PostAsync(string account);
}

/// <summary>A grain whose [Exclusive] method takes the lock through the silo's own provider.</summary>
public sealed partial class TellerGrain(ILockProvider locks) : Grain, ITellerGrain
{
    private static readonly Dictionary<string, int> s_posted = [];
    private static int s_inside;
    private static int s_overlaps;

    public static int Overlaps => s_overlaps;

    public static int Posted(string account)
    {
        lock (s_posted)
        {
            return s_posted.GetValueOrDefault(account);
        }
    }

    public Task<long> PostAsync(string account) => PostUnderLockAsync(account);

    [Exclusive("accounts/{account}", Ttl = "10s", Wait = "30s")]
    private partial Task<long> PostUnderLockAsync(string account);

    private async Task<long> PostUnderLockAsyncCore(string account, LockLease lease, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref s_inside) != 1)
        {
            Interlocked.Increment(ref s_overlaps);
        }

        await Task.Delay(5, cancellationToken);
        lock (s_posted)
        {
            s_posted[account] = s_posted.GetValueOrDefault(account) + 1;
        }

        Interlocked.Decrement(ref s_inside);
        return lease.FencingToken;
    }
}
