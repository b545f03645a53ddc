using BenchmarkDotNet.Attributes;

namespace Locking.Benchmarks;

/// <summary>
/// The cost of a generated [Exclusive] wrapper against hand-written code doing the same, on two providers that never
/// wait for a store: <c>instant</c>, a <see cref="LockProvider"/> whose store answers synchronously (the wrapper plus
/// the shared lease lifecycle), and <c>bare</c>, one reusable already-held lease (the wrapper's own cost alone).
/// </summary>
[MemoryDiagnoser]
public partial class WrapperOverheadBenchmarks
{
    private static readonly LockOptions s_options = new() { Ttl = TimeSpan.FromSeconds(30), Wait = TimeSpan.FromSeconds(5), Renew = true };

    private readonly string _orderId = "order-42";
    private ILockProvider _locks = null!;

    /// <summary>Which provider the wrapper and the hand-written code run on.</summary>
    [Params("instant", "bare")]
    public string Store { get; set; } = "instant";

    [GlobalSetup]
    public void Setup() => _locks = Store == "bare" ? new BareLockProvider() : new InstantLockProvider();

    [Benchmark(Baseline = true, Description = "hand-written await using")]
    public async Task<long> HandWritten()
    {
        await using var lease = await _locks.AcquireAsync("orders/" + _orderId, s_options);
        return await ChargeBodyAsync(_orderId, lease, lease.LostToken);
    }

    [Benchmark(Description = "generated [Exclusive] wrapper")]
    public Task<long> Generated() => ChargeAsync(_orderId);

    [Benchmark(Description = "generated, constant key")]
    public Task<long> GeneratedConstantKey() => SweepAsync();

    [Exclusive("orders/{orderId}", Ttl = "30s", Wait = "5s")]
    public partial Task<long> ChargeAsync(string orderId, CancellationToken ct = default);

    private Task<long> ChargeAsyncCore(string orderId, LockLease lease, CancellationToken ct) => ChargeBodyAsync(orderId, lease, ct);

    [Exclusive("orders/sweep", Ttl = "30s", Wait = "5s")]
    public partial Task<long> SweepAsync();

    private Task<long> SweepAsyncCore(LockLease lease, CancellationToken ct) => ChargeBodyAsync("sweep", lease, ct);

    private static Task<long> ChargeBodyAsync(string orderId, LockLease lease, CancellationToken ct)
        => ct.IsCancellationRequested ? Task.FromCanceled<long>(ct) : Task.FromResult(lease.FencingToken + orderId.Length);

    [GlobalCleanup]
    public ValueTask Cleanup() => _locks is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>A lock store whose every operation completes synchronously: it grants every acquire at once.</summary>
internal sealed class InstantLockProvider() : LockProvider("instant")
{
    private long _fencingToken;

    protected override ValueTask<LeaseGrant?> AcquireInStoreAsync(LeaseRequest request, CancellationToken cancellationToken)
        => ValueTask.FromResult<LeaseGrant?>(new LeaseGrant(Interlocked.Increment(ref _fencingToken), TimeProvider.GetTimestamp()));

    protected override ValueTask<bool> RenewInStoreAsync(LeaseIdentity lease, TimeSpan ttl, CancellationToken cancellationToken)
        => ValueTask.FromResult(true);

    protected override ValueTask ReleaseInStoreAsync(LeaseIdentity lease, CancellationToken cancellationToken)
        => ValueTask.CompletedTask;
}

/// <summary>Hands out one lease that is never lost and whose release does nothing.</summary>
internal sealed class BareLockProvider : ILockProvider
{
    private readonly ValueTask<LockLease?> _lease = ValueTask.FromResult<LockLease?>(new BareLease());

    public ValueTask<LockLease?> TryAcquireAsync(string key, LockOptions? options = null, CancellationToken cancellationToken = default) => _lease;

    public ValueTask<LockLease> AcquireAsync(string key, LockOptions? options = null, CancellationToken cancellationToken = default) => ValueTask.FromResult(_lease.Result!);
}

internal sealed class BareLease() : LockLease("bare", 1)
{
    public override CancellationToken LostToken => CancellationToken.None;

    public override ValueTask<bool> RenewAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(true);

    public override ValueTask ReleaseAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
