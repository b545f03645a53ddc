using Locking.Analyzers.Tests.Infrastructure;
using VerifyLease = Locking.Analyzers.Tests.Infrastructure.Verify<Locking.Analyzers.LeaseReleaseAnalyzer>;

namespace Locking.Analyzers.Tests;

/// <summary>LOCK001: a lease that is not released on every path.</summary>
public sealed class LeaseReleaseAnalyzerTests
{
    private static string InClass(string members) => $$"""
        public sealed class Worker(ILockProvider provider)
        {
            private LockLease? _held;
            {{members}}
            private static void DoWork() { }
        }
        """;

    [Fact]
    public Task Discarded_lease_is_flagged() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync()
        {
            await {|LOCK001:provider.AcquireAsync("jobs/nightly")|};
            DoWork();
        }
        """));

    [Fact]
    public Task Discarded_task_is_flagged() => VerifyLease.AnalyzerAsync(InClass("""
        public void Run()
        {
            _ = {|LOCK001:provider.TryAcquireAsync("jobs/nightly")|};
        }
        """));

    [Fact]
    public Task Lease_never_released_is_flagged() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task<long> RunAsync(string id)
        {
            var lease = await {|LOCK001:provider.AcquireAsync("orders/" + id)|};
            DoWork();
            return lease.FencingToken;
        }
        """));

    [Fact]
    public Task Release_only_on_the_normal_path_is_flagged() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync(string id)
        {
            var lease = await {|LOCK001:provider.AcquireAsync($"orders/{id}")|};
            DoWork();
            await lease.ReleaseAsync();
        }
        """));

    [Fact]
    public Task Message_names_the_key_and_the_problem() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync(string id)
        {
            var lease = await provider.AcquireAsync($"orders/{id}");
            DoWork();
            await lease.ReleaseAsync();
        }
        """),
        VerifyLease.Diagnostic("LOCK001").WithSpan("/0/Test1.cs", 6, 23, 6, 60)
            .WithArguments("$\"orders/{id}\"", "is released only when no exception is thrown"));

    [Fact]
    public Task Pattern_without_a_variable_is_flagged() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task<bool> IsFreeAsync() => await {|LOCK001:provider.TryAcquireAsync("jobs/nightly")|} is not null;
        """));

    [Fact]
    public Task Synchronous_wait_without_release_is_flagged() => VerifyLease.AnalyzerAsync(InClass("""
        public void Run()
        {
            var lease = {|LOCK001:provider.AcquireAsync("jobs/nightly")|}.AsTask().GetAwaiter().GetResult();
            DoWork();
        }
        """));

    [Fact]
    public Task Lease_read_but_not_released_is_flagged() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task<long> TokenAsync() => (await {|LOCK001:provider.AcquireAsync("jobs/nightly")|}).FencingToken;
        """));

    [Fact]
    public Task Await_using_declaration_is_fine() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync(string id, CancellationToken ct)
        {
            await using var lease = await provider.AcquireAsync("orders/" + id, cancellationToken: ct);
            DoWork();
        }
        """));

    [Fact]
    public Task Using_statements_are_fine() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync()
        {
            await using (await provider.AcquireAsync("a")) { DoWork(); }
            using (var lease = provider.AcquireAsync("b").AsTask().Result) { DoWork(); }
            var later = await provider.AcquireAsync("c");
            await using (later) { DoWork(); }
        }
        """));

    [Fact]
    public Task Release_in_finally_is_fine() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync(string id)
        {
            var lease = await provider.TryAcquireAsync("orders/" + id);
            if (lease is null)
            {
                return;
            }

            try
            {
                DoWork();
            }
            finally
            {
                await lease.ReleaseAsync();
            }
        }

        public async Task DisposeInFinallyAsync()
        {
            LockLease? lease = null;
            try
            {
                lease = await provider.AcquireAsync("b");
                DoWork();
            }
            finally
            {
                lease?.Dispose();
            }
        }
        """));

    [Fact]
    public Task Pattern_variables_released_in_finally_are_fine() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync()
        {
            if (await provider.TryAcquireAsync("jobs/nightly") is { } lease)
            {
                try { DoWork(); } finally { await lease.DisposeAsync(); }
            }
        }
        """));

    [Fact]
    public Task Returned_and_stored_leases_are_fine() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task<LockLease> AcquireForCallerAsync(string id) => await provider.AcquireAsync("orders/" + id);

        public ValueTask<LockLease?> TryForCallerAsync(string id) => provider.TryAcquireAsync("orders/" + id);

        public async Task<LockLease?> TryAsync(string id)
        {
            var lease = await provider.TryAcquireAsync("orders/" + id);
            return lease;
        }

        public async Task HoldAsync() => _held = await provider.AcquireAsync("leader");

        public async Task HoldViaLocalAsync()
        {
            var lease = await provider.AcquireAsync("leader");
            _held = lease;
        }

        public async Task KeepAllAsync(List<LockLease> leases, Dictionary<string, LockLease> byKey)
        {
            leases.Add(await provider.AcquireAsync("a"));
            var b = await provider.AcquireAsync("b");
            byKey["b"] = b;
        }
        """));

    [Fact]
    public Task Leases_handed_to_an_owner_are_fine() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync()
        {
            var lease = await provider.AcquireAsync("leader");
            Watch(lease);
            Track(await provider.AcquireAsync("other"));
            var holder = new Holder(await provider.AcquireAsync("third"));
            GC.KeepAlive(holder);
        }

        private void Watch(LockLease lease) => _held = lease;
        private void Track(IAsyncDisposable resource) => GC.KeepAlive(resource);
        private sealed record Holder(LockLease Lease);
        """));

    [Fact]
    public Task Passing_the_lease_to_a_logger_does_not_release_it() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync()
        {
            var lease = await {|LOCK001:provider.AcquireAsync("leader")|};
            Console.WriteLine(lease);
        }
        """));

    [Fact]
    public Task Release_in_catch_and_on_the_normal_path_is_fine() => VerifyLease.AnalyzerAsync(InClass("""
        public async Task RunAsync()
        {
            var lease = await provider.AcquireAsync("leader");
            try
            {
                DoWork();
            }
            catch
            {
                await lease.ReleaseAsync();
                throw;
            }

            await lease.ReleaseAsync();
        }
        """));

    [Fact]
    public Task Concrete_providers_are_understood() => VerifyLease.AnalyzerAsync("""
        public sealed class Jobs(LockProvider provider)
        {
            public async Task RunAsync() => await {|LOCK001:provider.AcquireAsync("jobs")|};
        }
        """);

    [Fact]
    public Task Unrelated_AcquireAsync_methods_are_ignored() => VerifyLease.AnalyzerAsync("""
        public sealed class Pool
        {
            public ValueTask<IDisposable> AcquireAsync(string key) => throw new NotImplementedException();
            public async Task RunAsync() => await AcquireAsync("x");
        }
        """);
}
