using Locking.Analyzers.Tests.Infrastructure;
using VerifyCalls = Locking.Analyzers.Tests.Infrastructure.Verify<Locking.Analyzers.ExclusiveCallAnalyzer>;
using VerifyOrder = Locking.Analyzers.Tests.Infrastructure.Verify<Locking.Analyzers.LockOrderAnalyzer>;

namespace Locking.Analyzers.Tests;

/// <summary>LOCK010 (Core called without its lock), LOCK012 (same-key reentrancy), LOCK013 (lock order), with the real generator.</summary>
public sealed class ExclusiveCallAnalyzerTests
{
    private const string Orders = """
        public sealed record Order(string Id, string Customer);

        public sealed partial class Orders(ILockProvider locks)
        {
            [Exclusive("orders/{orderId}")]
            public partial Task ChargeAsync(string orderId, CancellationToken ct);

            private async Task ChargeAsyncCore(string orderId, LockLease lease, CancellationToken ct) => await Task.Delay(1, ct);

            [Exclusive("orders/{order.Id}", Ttl = "10s")]
            public partial Task ShipAsync(Order order, CancellationToken ct);

        """;

    [Fact]
    public Task Direct_call_of_a_body_is_flagged() => VerifyCalls.GeneratedAsync(Orders + """
            private Task ShipAsyncCore(Order order, CancellationToken ct) => Task.CompletedTask;

            public Task ChargeWithoutLockAsync(string id) => {|LOCK010:ChargeAsyncCore(id, null!, default)|};

            public Func<Order, CancellationToken, Task> Shipper => {|LOCK010:ShipAsyncCore|};
        }

        public static class Elsewhere
        {
            public static Task Run(Orders orders) => orders.ChargeAsync("1", default);
        }
        """);

    [Fact]
    public Task A_body_that_recurses_into_itself_is_fine() => VerifyCalls.GeneratedAsync(Orders + """
            private async Task ShipAsyncCore(Order order, CancellationToken ct)
            {
                if (order.Customer.Length > 100)
                {
                    await ShipAsyncCore(order with { Customer = order.Customer.Substring(0, 100) }, ct);
                }
            }
        }
        """);

    [Fact]
    public Task Same_key_reentrancy_is_flagged() => VerifyCalls.GeneratedAsync(Orders + """
            private async Task ShipAsyncCore(Order order, CancellationToken ct)
            {
                await {|LOCK012:ChargeAsync(order.Id, ct)|};
            }

            [Exclusive("orders/{id}")]
            public partial Task RefundAsync(string id, CancellationToken ct);

            private async Task RefundAsyncCore(string id, LockLease lease, CancellationToken ct)
            {
                await {|LOCK012:ChargeAsync(id, ct)|};
            }
        }
        """);

    [Fact]
    public Task Message_names_both_methods_and_the_key() => VerifyCalls.GeneratedAsync(Orders + """
            private Task ShipAsyncCore(Order order, CancellationToken ct) => ChargeAsync(order.Id, ct);
        }
        """,
        VerifyCalls.Diagnostic("LOCK012").WithSpan("/0/Test1.cs", 12, 70, 12, 95).WithArguments("ShipAsync", "ChargeAsync", "orders/{order.Id}"));

    [Fact]
    public Task Other_keys_are_fine() => VerifyCalls.GeneratedAsync(Orders + """
            private async Task ShipAsyncCore(Order order, CancellationToken ct)
            {
                await ChargeAsync(order.Customer, ct);
                await ChargeAsync("fees", ct);
                await NotifyAsync(order.Id, ct);
            }

            [Exclusive("notify/{id}")]
            public partial Task NotifyAsync(string id, CancellationToken ct);

            private Task NotifyAsyncCore(string id, CancellationToken ct) => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task Opposite_lock_orders_are_flagged_on_both_sides() => VerifyOrder.GeneratedAsync("""
        public sealed partial class Ledger(ILockProvider locks)
        {
            [Exclusive("accounts/{account}")]
            public partial Task PostAsync(string account, string journal, CancellationToken ct);

            private async Task PostAsyncCore(string account, string journal, CancellationToken ct)
                => await {|LOCK013:CloseJournalAsync(journal, ct)|};

            [Exclusive("journals/{journal}")]
            public partial Task CloseJournalAsync(string journal, CancellationToken ct);

            private async Task CloseJournalAsyncCore(string journal, CancellationToken ct)
                => await {|LOCK013:PostAsync("suspense", journal, ct)|};
        }
        """);

    [Fact]
    public Task One_consistent_order_is_fine() => VerifyOrder.GeneratedAsync("""
        public sealed partial class Ledger(ILockProvider locks)
        {
            [Exclusive("accounts/{account}")]
            public partial Task PostAsync(string account, string journal, CancellationToken ct);

            private async Task PostAsyncCore(string account, string journal, CancellationToken ct)
                => await CloseJournalAsync(journal, ct);

            [Exclusive("accounts/{account}/audit")]
            public partial Task AuditAsync(string account, string journal, CancellationToken ct);

            private async Task AuditAsyncCore(string account, string journal, CancellationToken ct)
                => await CloseJournalAsync(journal, ct);

            [Exclusive("journals/{journal}")]
            public partial Task CloseJournalAsync(string journal, CancellationToken ct);

            private Task CloseJournalAsyncCore(string journal, CancellationToken ct) => Task.CompletedTask;
        }
        """);
}
