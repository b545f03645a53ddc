using Microsoft.CodeAnalysis;
using static Locking.Generators.Tests.DeclarationVerifier;

namespace Locking.Generators.Tests;

/// <summary>LOCK003, LOCK005-LOCK009 and LOCK011 from the shared parser, located where the code fixes expect them.</summary>
public sealed class DeclarationAnalyzerTests
{
    private const string Types = """

        public sealed record Order(string Id, int Number);
        public sealed class Opaque { public int Value { get; init; } }
        public sealed class Named { public override string ToString() => "named"; }
        public enum Region { North, South }
        """;

    [Fact]
    public Task Valid_declarations_raise_nothing() => VerifyAsync("""
        public partial class OrderService(ILockProvider locks)
        {
            [Exclusive("orders/{order.Id}/{order.Number}/{region}/{named}/{id}", Ttl = "30s", Wait = "infinite", Work = "1m")]
            public partial Task<int> ChargeAsync(Order order, Region region, Named named, Guid id, CancellationToken ct = default);
            private Task<int> ChargeAsyncCore(Order order, Region region, Named named, Guid id, LockLease lease, CancellationToken ct) => Task.FromResult(1);

            [Exclusive("orders/all", Ttl = "00:01:00", Wait = "0", Renew = false, Work = "59s", OnBusy = OnBusy.Skip)]
            public partial void Sweep();
            private void SweepCore(CancellationToken ct) { }

            [Exclusive("static/{id}")]
            public static partial ValueTask StaticAsync(ILockProvider provider, int id);
            private static ValueTask StaticAsyncCore(ILockProvider provider, int id) => default;
        }
        """ + Types);

    [Fact]
    public Task LOCK005_unknown_parameter_member_and_malformed_templates() => VerifyAsync("""
        public partial class OrderService(ILockProvider locks)
        {
            [Exclusive({|LOCK005:"orders/{orderId}"|})]
            public partial Task A(string id);
            private Task ACore(string id) => Task.CompletedTask;

            [Exclusive({|LOCK005:"orders/{order.Missing}"|})]
            public partial Task B(Order order);
            private Task BCore(Order order) => Task.CompletedTask;

            [Exclusive({|LOCK005:"orders/{id"|})]
            public partial Task C(string id);
            private Task CCore(string id) => Task.CompletedTask;

            [Exclusive({|LOCK005:"orders/id}"|})]
            public partial Task D(string id);
            private Task DCore(string id) => Task.CompletedTask;

            [Exclusive({|LOCK005:""|})]
            public partial Task E(string id);
            private Task ECore(string id) => Task.CompletedTask;

            [Exclusive({|LOCK005:"orders/{}"|})]
            public partial Task F(string id);
            private Task FCore(string id) => Task.CompletedTask;

            [Exclusive("orders/{{literal}}/{id}")]
            public partial Task G(string id);
            private Task GCore(string id) => Task.CompletedTask;

            [Exclusive({|LOCK005:"orders/\uD800/{id}"|})]
            public partial Task H(string id);
            private Task HCore(string id) => Task.CompletedTask;

            [Exclusive("orders/\uD83D\uDE00/{id}")]
            public partial Task I(string id);
            private Task ICore(string id) => Task.CompletedTask;
        }
        """ + Types);

    [Fact]
    public Task LOCK005_message_names_the_template_and_the_fault() => VerifyAsync("""
        public partial class OrderService(ILockProvider locks)
        {
            [Exclusive({|#0:"orders/{orderId}"|})]
            public partial Task A(string id);
            private Task ACore(string id) => Task.CompletedTask;
        }
        """,
        Diagnostic("LOCK005").WithLocation(0).WithArguments("orders/{orderId}", "'{orderId}' names no parameter of 'A'"));

    [Fact]
    public Task LOCK006_invalid_targets_on_the_method_name() => VerifyAsync("""
        public partial class Jobs(ILockProvider locks)
        {
            [Exclusive("a")]
            public Task {|LOCK006:NotPartial|}() => Task.CompletedTask;
            private Task NotPartialCore() => Task.CompletedTask;

            [Exclusive("b")]
            public async void {|LOCK006:AsyncVoid|}() => await Task.Yield();

            [Exclusive("c")]
            public IEnumerable<int> {|LOCK006:Iterator|}() { yield return 1; }

            [Exclusive("d/{count}")]
            public partial Task {|LOCK006:RefParameter|}(ref int count);

            [Exclusive("e")]
            public partial int {|LOCK006:RefStructParameter|}(ReadOnlySpan<byte> data);
        }
        """.Replace("IEnumerable<int>", "System.Collections.Generic.IEnumerable<int>"));

    [Fact]
    public async Task LOCK006_carries_the_reason_for_the_code_fixes()
    {
        var diagnostics = await DiagnosticsAsync("""
            public class NotPartialType(ILockProvider locks)
            {
                [Exclusive("a")]
                public Task RunAsync() => Task.CompletedTask;
            }

            public partial class Jobs(ILockProvider locks)
            {
                [Exclusive("b/{count}")]
                public partial Task CountAsync(ref int count);

                [Exclusive("c")]
                public async void Fire() => await Task.Yield();
            }
            """);

        var reasons = diagnostics.Where(d => d.Id == "LOCK006").Select(d => d.Properties["Reason"]).Order().ToList();
        Assert.Equal(["AsyncVoid", "NotPartial", "RefParameter", "TypeNotPartial"], reasons);
        Assert.All(diagnostics.Where(d => d.Id == "LOCK006"), d => Assert.Contains(d.Location.SourceTree!.ToString().Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length), new[] { "RunAsync", "CountAsync", "Fire" }));
    }

    [Fact]
    public Task LOCK007_missing_or_mismatched_core_method() => VerifyAsync("""
        public partial class OrderService(ILockProvider locks)
        {
            [Exclusive("a/{id}")]
            public partial Task {|#0:ChargeAsync|}(string id, CancellationToken ct);

            [Exclusive("b/{id}")]
            public partial Task<int> {|LOCK007:WrongReturn|}(string id);
            private Task<long> WrongReturnCore(string id) => Task.FromResult(1L);

            [Exclusive("c/{id}")]
            public partial Task {|LOCK007:WrongParameters|}(string id);
            private Task WrongParametersCore(int id) => Task.CompletedTask;

            [Exclusive("d/{id}")]
            public partial Task {|LOCK007:TwoTokens|}(string id, CancellationToken ct);
            private Task TwoTokensCore(string id, CancellationToken ct, CancellationToken again) => Task.CompletedTask;

            [Exclusive("e/{id}")]
            public partial Task ExtrasAnywhere(string id, int count);
            private Task ExtrasAnywhereCore(LockLease lease, string id, CancellationToken token, int count) => Task.CompletedTask;
        }
        """,
        Diagnostic("LOCK007").WithLocation(0).WithArguments("ChargeAsync", "ChargeAsyncCore", "string id, CancellationToken ct, LockLease lease", ""));

    [Fact]
    public async Task LOCK007_says_which_parameter_of_an_existing_core_method_differs()
    {
        var diagnostics = await DiagnosticsAsync("""
            public partial class OrderService(ILockProvider locks)
            {
                [Exclusive("a/{id}")]
                public partial Task WrongType(string id, int count);
                private Task WrongTypeCore(string id, long count) => Task.CompletedTask;

                [Exclusive("b/{id}")]
                public partial Task Missing(string id, int count);
                private Task MissingCore(string id, LockLease lease) => Task.CompletedTask;

                [Exclusive("c/{id}")]
                public partial Task Extra(string id, CancellationToken ct);
                private Task ExtraCore(string id, CancellationToken ct, CancellationToken again) => Task.CompletedTask;

                [Exclusive("d/{id}")]
                public partial Task<int> WrongReturn(string id);
                private Task<long> WrongReturnCore(string id) => Task.FromResult(1L);

                [Exclusive("e/{id}")]
                public partial Task ByRef(string id);
                private Task ByRefCore(ref string id) => Task.CompletedTask;

                [Exclusive("f/{id}")]
                public static partial Task StaticAsync(ILockProvider provider, string id);
                private Task StaticAsyncCore(ILockProvider provider, string id) => Task.CompletedTask;
            }
            """);

        string MessageOf(string method) => Assert.Single(diagnostics, d => d.Id == "LOCK007" && d.GetMessage().Contains($"'{method}'")).GetMessage();
        Assert.Equal("[Exclusive] method 'WrongType' needs a body method 'WrongTypeCore' with parameters (string id, int count, LockLease lease, CancellationToken cancellationToken); "
            + "the existing 'WrongTypeCore' has 'long count' where 'int count' is expected", MessageOf("WrongType"));
        Assert.EndsWith("the existing 'MissingCore' lacks the parameter 'int count'", MessageOf("Missing"));
        Assert.EndsWith("the existing 'ExtraCore' has 'CancellationToken again' after all of 'Extra''s parameters; only one LockLease may be added", MessageOf("Extra"));
        Assert.EndsWith("the existing 'WrongReturnCore' returns 'Task<long>', which does not fit 'Task<int>'", MessageOf("WrongReturn"));
        Assert.EndsWith("the existing 'ByRefCore' has 'ref string id' where 'string id' is expected", MessageOf("ByRef"));
        Assert.EndsWith("the existing 'StaticAsyncCore' is an instance method, but 'StaticAsync' is static", MessageOf("StaticAsync"));
    }

    [Theory]
    [InlineData("LOCK005", "[Exclusive(\"orders/{missing}\")] public partial Task RunAsync(string id); private Task RunAsyncCore(string id) => Task.CompletedTask;")]
    [InlineData("LOCK006", "[Exclusive(\"orders/{id}\")] public partial Task RunAsync(ref string id); private Task RunAsyncCore(ref string id) => Task.CompletedTask;")]
    [InlineData("LOCK007", "[Exclusive(\"orders/{id}\")] public partial Task RunAsync(string id); private Task RunAsyncCore(int id) => Task.CompletedTask;")]
    [InlineData("LOCK008", "[Exclusive(\"orders/{id}\", Store = \"nowhere\")] public partial Task RunAsync(string id); private Task RunAsyncCore(string id) => Task.CompletedTask;")]
    [InlineData("LOCK009", "[Exclusive(\"orders/{id}\", Ttl = \"soon\")] public partial Task RunAsync(string id); private Task RunAsyncCore(string id) => Task.CompletedTask;")]
    public async Task An_invalid_declaration_gets_its_LOCK_error_and_no_unread_provider_warning(string id, string member)
    {
        var source = $$"""
            public partial class Jobs(ILockProvider locks)
            {
                {{member}}
            }

            public partial class TwoStores(ILockProvider redis, ILockProvider orleans)
            {
                {{member}}
            }
            """;
        var run = Locking.Generators.Tests.GeneratorHarness.Run(source);
        var compiler = run.Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.Id).ToList();
        Assert.DoesNotContain("CS9113", compiler);
        Assert.DoesNotContain("CS8795", compiler);
        var reported = (await DiagnosticsAsync(source)).Select(d => d.Id).ToList();
        Assert.Contains(id, reported);
    }

    [Fact]
    public async Task LOCK007_carries_the_core_name()
    {
        var diagnostics = await DiagnosticsAsync("""
            public partial class OrderService(ILockProvider locks)
            {
                [Exclusive("a/{id}")]
                public partial Task ChargeAsync(string id);
            }
            """);

        Assert.Equal("ChargeAsyncCore", Assert.Single(diagnostics, d => d.Id == "LOCK007").Properties["CoreName"]);
    }

    [Fact]
    public Task LOCK008_no_provider_several_providers_and_unknown_store() => VerifyAsync("""
        public partial class NoProvider
        {
            [Exclusive("a")]
            public partial Task {|LOCK008:RunAsync|}();
            private Task RunAsyncCore() => Task.CompletedTask;
        }

        public partial class Several(ILockProvider redis, ILockProvider orleans)
        {
            [Exclusive("b")]
            public partial Task {|LOCK008:RunAsync|}();
            private Task RunAsyncCore() => Task.CompletedTask;

            [Exclusive("c", {|LOCK008:Store = "memcached"|})]
            public partial Task OtherAsync();
            private Task OtherAsyncCore() => Task.CompletedTask;

            [Exclusive("d", Store = nameof(redis))]
            public partial Task PickedAsync();
            private Task PickedAsyncCore() => Task.CompletedTask;
        }

        public partial class StaticOnly
        {
            private readonly ILockProvider _locks = null!;

            [Exclusive("e")]
            public static partial Task {|LOCK008:RunAsync|}();
            private static Task RunAsyncCore() => Task.CompletedTask;

            public override string ToString() => _locks.ToString()!;
        }
        """);

    [Fact]
    public Task LOCK009_invalid_durations_on_their_argument() => VerifyAsync("""
        public partial class Jobs(ILockProvider locks)
        {
            [Exclusive("a", {|LOCK009:Ttl = "30x"|})]
            public partial Task A();
            private Task ACore() => Task.CompletedTask;

            [Exclusive("b", {|LOCK009:Ttl = "0"|})]
            public partial Task B();
            private Task BCore() => Task.CompletedTask;

            [Exclusive("c", {|LOCK009:Ttl = "infinite"|})]
            public partial Task C();
            private Task CCore() => Task.CompletedTask;

            [Exclusive("d", {|LOCK009:Wait = "-00:00:01"|})]
            public partial Task D();
            private Task DCore() => Task.CompletedTask;

            [Exclusive("e", {|LOCK009:Work = "soon"|})]
            public partial Task E();
            private Task ECore() => Task.CompletedTask;

            [Exclusive("f", {|LOCK009:Ttl = "2d"|})]
            public partial Task F();
            private Task FCore() => Task.CompletedTask;

            [Exclusive("g", Ttl = "250ms", Wait = "1h", Work = "00:00:00.200")]
            public partial Task G();
            private Task GCore() => Task.CompletedTask;
        }
        """);

    [Fact]
    public Task LOCK009_message_names_the_property_and_value() => VerifyAsync("""
        public partial class Jobs(ILockProvider locks)
        {
            [Exclusive("a", {|#0:Ttl = "30x"|})]
            public partial Task A();
            private Task ACore() => Task.CompletedTask;
        }
        """,
        Diagnostic("LOCK009").WithLocation(0).WithArguments("Ttl", "30x", "use a number with a unit (\"250ms\", \"30s\", \"5m\", \"1h\"), \"0\", \"infinite\" or \"hh:mm:ss\""));

    [Fact]
    public Task LOCK003_ttl_shorter_than_work_without_renewal() => VerifyAsync("""
        public partial class Jobs(ILockProvider locks)
        {
            [Exclusive("a", Ttl = "10s", Renew = false, {|#0:Work = "1m"|})]
            public partial Task A();
            private Task ACore() => Task.CompletedTask;

            [Exclusive("b", Ttl = "10s", Renew = true, Work = "1m")]
            public partial Task B();
            private Task BCore() => Task.CompletedTask;

            [Exclusive("c", Ttl = "2m", Renew = false, Work = "1m")]
            public partial Task C();
            private Task CCore() => Task.CompletedTask;

            [Exclusive("d", Renew = false, {|LOCK003:Work = "infinite"|})]
            public partial Task D();
            private Task DCore() => Task.CompletedTask;
        }
        """,
        Diagnostic("LOCK003").WithLocation(0).WithArguments("A", "10s", "1m"));

    [Fact]
    public Task LOCK011_placeholders_without_a_stable_text_form() => VerifyAsync("""
        public partial class Jobs(ILockProvider locks)
        {
            [Exclusive({|LOCK011:"a/{value}"|})]
            public partial Task A(object value);
            private Task ACore(object value) => Task.CompletedTask;

            [Exclusive({|LOCK011:"b/{ids}"|})]
            public partial Task B(System.Collections.Generic.List<int> ids);
            private Task BCore(System.Collections.Generic.List<int> ids) => Task.CompletedTask;

            [Exclusive({|LOCK011:"c/{opaque}"|})]
            public partial Task C(Opaque opaque);
            private Task CCore(Opaque opaque) => Task.CompletedTask;

            [Exclusive("d/{opaque.Value}/{order}/{named}/{region}/{day}/{when}")]
            public partial Task D(Opaque opaque, Order order, Named named, Region region, DateOnly day, DateTimeOffset? when);
            private Task DCore(Opaque opaque, Order order, Named named, Region region, DateOnly day, DateTimeOffset? when) => Task.CompletedTask;
        }
        """ + Types);
}
