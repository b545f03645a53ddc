namespace Locking.Generators.Tests;

/// <summary>
/// The emitted source for every shape, compared with the golden files under Snapshots/; each case also
/// compiles with the generated part without a single warning.
/// </summary>
public sealed class SnapshotTests
{
    private static void Verify(string caseName, params string[] sources)
    {
        var run = GeneratorHarness.Run(sources);
        run.AssertClean();
        Snapshot.Match(caseName, run);
    }

    [Fact]
    public void TaskOfT_with_a_member_path_key_and_a_primary_constructor_provider() => Verify("TaskOfT", """
        namespace Shop;

        public sealed record Order(string Id, decimal Amount);
        public sealed record Receipt(string OrderId, long FencingToken);

        public partial class OrderService(ILockProvider locks)
        {
            [Exclusive("orders/{order.Id}", Ttl = "30s", Wait = "5s", Work = "10s")]
            public partial Task<Receipt> ChargeAsync(Order order, CancellationToken ct = default);

            private async Task<Receipt> ChargeAsyncCore(Order order, LockLease lease, CancellationToken ct)
            {
                await Task.Yield();
                return new Receipt(order.Id, lease.FencingToken);
            }
        }
        """);

    [Fact]
    public void Task_with_a_constant_key_and_a_field_provider_in_a_block_namespace() => Verify("TaskConstantKey", """
        namespace Shop.Jobs
        {
            internal sealed partial class NightlyReport
            {
                private readonly ILockProvider _locks;

                public NightlyReport(ILockProvider locks) => _locks = locks;

                [Exclusive("jobs/nightly-report", Ttl = "5m", Wait = "0", OnBusy = OnBusy.Skip)]
                internal partial Task RunAsync();

                private Task RunAsyncCore(CancellationToken cancellationToken) => Task.Delay(1, cancellationToken);
            }
        }
        """);

    [Fact]
    public void ValueTask_static_method_with_a_provider_parameter() => Verify("ValueTaskStatic", """
        namespace Shop;

        public static partial class Inventory
        {
            [Exclusive("stock/{sku}/{warehouse}", Ttl = "250ms", Wait = "infinite", Renew = false, Work = "100ms")]
            public static partial ValueTask ReserveAsync(ILockProvider locks, string sku, int warehouse, CancellationToken cancellationToken);

            private static ValueTask ReserveAsyncCore(ILockProvider locks, string sku, int warehouse, CancellationToken cancellationToken)
                => ValueTask.CompletedTask;
        }
        """);

    [Fact]
    public void ValueTaskOfT_that_skips_when_busy_with_formatted_placeholders() => Verify("ValueTaskOfTSkip", """
        namespace Shop;

        public enum Region { North, South }

        public partial class Ledger
        {
            private ILockProvider Locks { get; }

            public Ledger(ILockProvider locks) => Locks = locks;

            [Exclusive("ledger/{region}/{accountId}/{day}/{batch}", OnBusy = OnBusy.Skip, Wait = "00:00:02")]
            public partial ValueTask<decimal?> BalanceAsync(Region region, Guid accountId, DateOnly day, int? batch, CancellationToken ct);

            private ValueTask<decimal?> BalanceAsyncCore(Region region, Guid accountId, DateOnly day, int? batch, CancellationToken ct)
                => ValueTask.FromResult<decimal?>(1m);
        }
        """);

    [Fact]
    public void Synchronous_void_and_result_shapes() => Verify("Synchronous", """
        namespace Shop;

        public partial class Counter(ILockProvider locks)
        {
            private int _value;

            [Exclusive("counter/{name}", Ttl = "10s", Wait = "1s")]
            public partial void Increment(string name);

            private void IncrementCore(string name, LockLease lease) => _value++;

            [Exclusive("counter/{name}")]
            public partial int Read(string name, CancellationToken ct);

            private int ReadCore(string name, CancellationToken ct) => _value;
        }
        """);

    [Fact]
    public void Generic_and_nested_containing_types_in_the_global_namespace() => Verify("GenericNested", """
        public partial class Outer<TKey> where TKey : notnull
        {
            public partial struct Cache<TValue>
            {
                private readonly ILockProvider _locks;

                public Cache(ILockProvider locks) => _locks = locks;

                [Exclusive("cache/{key}")]
                public partial Task<TValue?> GetOrAddAsync(TKey key, Func<TKey, TValue> factory);

                private Task<TValue?> GetOrAddAsyncCore(TKey key, Func<TKey, TValue> factory, CancellationToken token)
                    => Task.FromResult<TValue?>(factory(key));
            }
        }
        """);

    [Fact]
    public void Accessibility_default_values_params_and_nullable_annotations() => Verify("Signatures", """
        namespace Shop;

        public abstract partial class Mailer
        {
            protected abstract ILockProvider Locks { get; }

            [Exclusive("mail/{to}")]
            protected internal partial Task<string?> SendAsync(string to, string? subject = null, int retries = 3, params string[] attachments);

            private Task<string?> SendAsyncCore(string to, string? subject, int retries, string[] attachments) => Task.FromResult(subject);

            [Exclusive("mail/{@event}/{@class}")]
            private partial Task NotifyAsync(string @event, int @class, CancellationToken ct = default);

            private Task NotifyAsyncCore(string @event, int @class, LockLease lease, CancellationToken ct) => Task.CompletedTask;
        }
        """);

    [Fact]
    public void Generic_method_with_constraints_and_null_checked_member_paths() => Verify("GenericMethod", """
        namespace Shop;

        public sealed class Customer { public Address? Address { get; init; } }
        public sealed class Address { public string? City { get; init; } public int Zip { get; init; } }

        public partial record Shipping(ILockProvider Locks)
        {
            [Exclusive("ship/{customer.Address.City}/{customer.Address.Zip}/{{literal}}")]
            public partial Task<T> ShipAsync<T>(Customer customer, T parcel, CancellationToken ct) where T : class, IComparable<T>, new();

            private Task<T> ShipAsyncCore<T>(Customer customer, T parcel, CancellationToken ct) where T : class, IComparable<T>, new()
                => Task.FromResult(parcel);
        }
        """);

    [Fact]
    public void Store_picks_one_of_several_providers() => Verify("Store", """
        namespace Shop;

        public partial class Transfers(ILockProvider redis, ILockProvider orleans)
        {
            [Exclusive("transfer/{id}", Store = nameof(orleans))]
            public partial Task TransferAsync(long id);

            private Task TransferAsyncCore(long id) => Task.CompletedTask;

            public override string ToString() => $"Transfers via {redis} and {orleans}";
        }
        """);

    [Fact]
    public void Invalid_declaration_gets_a_body_that_throws() => Verify("Invalid", """
        namespace Shop;

        // Nothing else reads 'locks': the throwing bodies do, so the compiler adds no CS9113 to the LOCK errors.
        public partial class Broken(ILockProvider locks)
        {
            [Exclusive("orders/{orderId}")]
            public partial Task ChargeAsync(string orderId);

            [Exclusive("orders/{missing}")]
            public partial Task<int> RefundAsync(string orderId, out int attempts);

            private Task<int> RefundAsyncCore(string orderId) => Task.FromResult(0);
        }
        """);
}
