using BenchmarkDotNet.Attributes;

namespace Locking.Benchmarks;

/// <summary>
/// The wrapper alone: the same comparison as <see cref="WrapperOverheadBenchmarks"/> on a provider that does no
/// lease bookkeeping at all (one reusable, already-held lease), so the generated code's own cost is not lost in
/// the lifecycle's.
/// </summary>
[MemoryDiagnoser]
public partial class BareWrapperBenchmarks
{
    private static readonly LockOptions s_options = new() { Ttl = TimeSpan.FromSeconds(30), Wait = TimeSpan.FromSeconds(5), Renew = true };

    private readonly ILockProvider _locks = new BareLockProvider();
    private readonly string _orderId = "order-42";

    [Benchmark(Baseline = true, Description = "hand-written await using")]
    public async Task<long> HandWritten()
    {
        await using var lease = await _locks.AcquireAsync("orders/" + _orderId, s_options);
        return await ChargeBodyAsync(_orderId, lease, lease.LostToken);
    }

    [Benchmark(Description = "generated [Exclusive] wrapper")]
    public Task<long> Generated() => ChargeAsync(_orderId);

    [Exclusive("orders/{orderId}", Ttl = "30s", Wait = "5s")]
    public partial Task<long> ChargeAsync(string orderId, CancellationToken ct = default);

    private Task<long> ChargeAsyncCore(string orderId, LockLease lease, CancellationToken ct) => ChargeBodyAsync(orderId, lease, ct);

    private static Task<long> ChargeBodyAsync(string orderId, LockLease lease, CancellationToken ct)
        => ct.IsCancellationRequested ? Task.FromCanceled<long>(ct) : Task.FromResult(lease.FencingToken + orderId.Length);

    /// <summary>Hands out one lease that is never lost and whose release does nothing.</summary>
    private sealed class BareLockProvider : ILockProvider
    {
        private readonly ValueTask<LockLease?> _lease = ValueTask.FromResult<LockLease?>(new BareLease());

        public ValueTask<LockLease?> TryAcquireAsync(string key, LockOptions? options = null, CancellationToken cancellationToken = default) => _lease;

        public ValueTask<LockLease> AcquireAsync(string key, LockOptions? options = null, CancellationToken cancellationToken = default) => ValueTask.FromResult(_lease.Result!);
    }

    private sealed class BareLease() : LockLease("bare", 1)
    {
        public override CancellationToken LostToken => CancellationToken.None;

        public override ValueTask<bool> RenewAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(true);

        public override ValueTask ReleaseAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
