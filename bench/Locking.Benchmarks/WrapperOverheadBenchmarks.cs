using BenchmarkDotNet.Attributes;

namespace Locking.Benchmarks;

/// <summary>
/// The cost of a generated [Exclusive] wrapper against hand-written code doing the same, on a provider whose store
/// answers synchronously, so that only the wrapper and the shared lease lifecycle are measured.
/// </summary>
[MemoryDiagnoser]
public partial class WrapperOverheadBenchmarks
{
    private static readonly LockOptions s_options = new() { Ttl = TimeSpan.FromSeconds(30), Wait = TimeSpan.FromSeconds(5), Renew = true };

    private readonly InstantLockProvider _locks = new();
    private readonly string _orderId = "order-42";

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
    public ValueTask Cleanup() => _locks.DisposeAsync();
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
