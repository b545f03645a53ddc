using Locking.Analyzers.CodeFixes;
using Locking.Analyzers.Tests.Infrastructure;

namespace Locking.Analyzers.Tests;

/// <summary>Every code fix, before and after; the harness also applies each fix through Fix All (document, project, solution).</summary>
public sealed class CodeFixTests
{
    [Fact]
    public Task LOCK001_becomes_await_using_and_drops_the_late_release() => Verify<LeaseReleaseAnalyzer, LeaseReleaseCodeFix>.CodeFixAsync("""
        public sealed class Worker(ILockProvider provider)
        {
            public async Task RunAsync(string id)
            {
                // take the order
                var lease = await {|LOCK001:provider.AcquireAsync("orders/" + id)|};
                Console.WriteLine(lease.FencingToken);
                await lease.ReleaseAsync();
            }

            public async Task NightlyAsync()
            {
                await {|LOCK001:provider.AcquireAsync("jobs/nightly")|};
                Console.WriteLine("work");
            }

            public void Sync()
            {
                var held = {|LOCK001:provider.AcquireAsync("sync")|}.AsTask().GetAwaiter().GetResult();
                Console.WriteLine(held.Key);
            }
        }
        """, """
        public sealed class Worker(ILockProvider provider)
        {
            public async Task RunAsync(string id)
            {
                // take the order
                await using var lease = await provider.AcquireAsync("orders/" + id);
                Console.WriteLine(lease.FencingToken);
            }

            public async Task NightlyAsync()
            {
                await using var lease = await provider.AcquireAsync("jobs/nightly");
                Console.WriteLine("work");
            }

            public void Sync()
            {
                using var held = provider.AcquireAsync("sync").AsTask().GetAwaiter().GetResult();
                Console.WriteLine(held.Key);
            }
        }
        """);

    [Fact]
    public Task LOCK001_offers_no_fix_for_a_variable_assigned_again() => Verify<LeaseReleaseAnalyzer, LeaseReleaseCodeFix>.CodeFixAsync("""
        public sealed class Worker(ILockProvider provider)
        {
            public async Task RunAsync()
            {
                var lease = await {|LOCK001:provider.AcquireAsync("a")|};
                await lease.ReleaseAsync();
                lease = await {|LOCK001:provider.AcquireAsync("b")|};
                await lease.ReleaseAsync();
            }
        }
        """, """
        public sealed class Worker(ILockProvider provider)
        {
            public async Task RunAsync()
            {
                var lease = await {|LOCK001:provider.AcquireAsync("a")|};
                await lease.ReleaseAsync();
                lease = await {|LOCK001:provider.AcquireAsync("b")|};
                await lease.ReleaseAsync();
            }
        }
        """);

    [Fact]
    public Task LOCK002_becomes_a_compare_and_delete_script() => Verify<RedisLockKeyAnalyzer, OwnerCheckedReleaseCodeFix>.CodeFixAsync("""
        public sealed class RedisMutex(IDatabase db)
        {
            private readonly string _token = Guid.NewGuid().ToString();

            public Task<bool> TryEnterAsync(string name) => db.StringSetAsync("mutex:" + name, _token, TimeSpan.FromSeconds(30), When.NotExists);

            public async Task ExitAsync(string name)
            {
                await {|LOCK002:db.KeyDeleteAsync("mutex:" + name)|};
            }

            public bool Exit(string name) => {|LOCK002:db.KeyDelete("mutex:" + name, CommandFlags.DemandMaster)|};
        }
        """, """
        public sealed class RedisMutex(IDatabase db)
        {
            private const string CompareAndDeleteScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
            private readonly string _token = Guid.NewGuid().ToString();

            public Task<bool> TryEnterAsync(string name) => db.StringSetAsync("mutex:" + name, _token, TimeSpan.FromSeconds(30), When.NotExists);

            public async Task ExitAsync(string name)
            {
                await db.ScriptEvaluateAsync(CompareAndDeleteScript, new RedisKey[] { "mutex:" + name }, new RedisValue[] { _token });
            }

            public bool Exit(string name) => (bool)db.ScriptEvaluate(CompareAndDeleteScript, new RedisKey[] { "mutex:" + name }, new RedisValue[] { _token }, flags: CommandFlags.DemandMaster);
        }
        """);

    [Fact]
    public Task LOCK002_without_a_known_owner_offers_no_fix() => Verify<RedisLockKeyAnalyzer, OwnerCheckedReleaseCodeFix>.CodeFixAsync("""
        public sealed class Janitor(IDatabase db)
        {
            public void Unlock(string name) => {|LOCK002:db.KeyDelete("lock:" + name)|};
        }
        """, """
        public sealed class Janitor(IDatabase db)
        {
            public void Unlock(string name) => {|LOCK002:db.KeyDelete("lock:" + name)|};
        }
        """);

    [Fact]
    public Task LOCK004_becomes_one_SET_with_expiry() => Verify<RedisLockKeyAnalyzer, AtomicAcquireCodeFix>.CodeFixAsync("""
        public sealed class Acquire(IDatabase db)
        {
            public bool TryEnter(string name, TimeSpan ttl)
            {
                if ({|LOCK004:db.StringSet("mutex:" + name, Environment.MachineName, when: When.NotExists)|})
                {
                    db.KeyExpire("mutex:" + name, ttl);
                    return true;
                }

                return false;
            }

            public async Task<bool> TryAsync(string id, string token)
            {
                var key = "job:" + id;
                var won = await {|LOCK004:db.StringSetAsync(key, token, null, When.NotExists)|};
                if (won)
                {
                    await db.KeyExpireAsync(key, TimeSpan.FromSeconds(30));
                }

                return won;
            }
        }
        """, """
        public sealed class Acquire(IDatabase db)
        {
            public bool TryEnter(string name, TimeSpan ttl)
            {
                if (db.StringSet("mutex:" + name, Environment.MachineName, ttl, when: When.NotExists))
                {
                    return true;
                }

                return false;
            }

            public async Task<bool> TryAsync(string id, string token)
            {
                var key = "job:" + id;
                var won = await db.StringSetAsync(key, token, TimeSpan.FromSeconds(30), When.NotExists);
                return won;
            }
        }
        """);

    [Fact]
    public Task LOCK003_sets_Renew_true() => Verify<DeclarationAnalyzer, RenewCodeFix>.CodeFixAsync("""
        public sealed partial class Reports(ILockProvider locks)
        {
            [Exclusive("reports/{day}", Ttl = "30s", {|LOCK003:Work = "2m"|}, Renew = false)]
            public partial Task BuildAsync(DateOnly day, CancellationToken ct);

            private Task BuildAsyncCore(DateOnly day, CancellationToken ct) => Task.CompletedTask;
        }
        """, """
        public sealed partial class Reports(ILockProvider locks)
        {
            [Exclusive("reports/{day}", Ttl = "30s", Work = "2m", Renew = true)]
            public partial Task BuildAsync(DateOnly day, CancellationToken ct);

            private Task BuildAsyncCore(DateOnly day, CancellationToken ct) => Task.CompletedTask;
        }
        """, runGenerator: true);

    [Fact]
    public Task LOCK006_makes_types_partial() => Verify<DeclarationAnalyzer, MakePartialCodeFix>.CodeFixAsync("""
        public static class Outer
        {
            public sealed class Billing(ILockProvider locks)
            {
                [Exclusive("invoices/{id}")]
                public partial Task {|LOCK006:{|CS0751:{|CS8795:SendAsync|}|}|}(string id, CancellationToken ct);

                [Exclusive("refunds/{id}")]
                public partial Task {|LOCK006:{|CS0751:{|CS8795:RefundAsync|}|}|}(string id, CancellationToken ct);

                private Task SendAsyncCore(string id, CancellationToken ct) => Task.CompletedTask;

                private Task RefundAsyncCore(string id, CancellationToken ct) => Task.CompletedTask;
            }
        }
        """, """
        public static partial class Outer
        {
            public sealed partial class Billing(ILockProvider locks)
            {
                [Exclusive("invoices/{id}")]
                public partial Task SendAsync(string id, CancellationToken ct);

                [Exclusive("refunds/{id}")]
                public partial Task RefundAsync(string id, CancellationToken ct);

                private Task SendAsyncCore(string id, CancellationToken ct) => Task.CompletedTask;

                private Task RefundAsyncCore(string id, CancellationToken ct) => Task.CompletedTask;
            }
        }
        """, runGenerator: true);

    [Fact]
    public Task LOCK006_moves_a_written_body_to_Core() => Verify<DeclarationAnalyzer, MakePartialCodeFix>.CodeFixAsync("""
        public sealed partial class Billing(ILockProvider locks)
        {
            [Exclusive("invoices/{id}")]
            public async Task {|LOCK006:SendAsync|}(string id, CancellationToken ct)
            {
                await Task.Delay(1, ct);
            }
        }
        """, """
        public sealed partial class Billing(ILockProvider locks)
        {
            [Exclusive("invoices/{id}")]
            public partial Task SendAsync(string id, CancellationToken ct);

            private async Task SendAsyncCore(string id, CancellationToken ct)
            {
                await Task.Delay(1, ct);
            }
        }
        """, runGenerator: true);

    [Fact]
    public Task LOCK007_adds_the_Core_stub() => Verify<DeclarationAnalyzer, CoreStubCodeFix>.CodeFixAsync("""
        public sealed partial class Billing(ILockProvider locks)
        {
            [Exclusive("invoices/{id}")]
            public partial Task<int> {|LOCK007:SendAsync|}(string id, CancellationToken ct);

            [Exclusive("daily")]
            public partial void {|LOCK007:Close|}(int day);
        }
        """, """
        public sealed partial class Billing(ILockProvider locks)
        {
            [Exclusive("invoices/{id}")]
            public partial Task<int> SendAsync(string id, CancellationToken ct);

            private Task<int> SendAsyncCore(string id, LockLease lease, CancellationToken ct)
            {
                throw new NotImplementedException();
            }

            [Exclusive("daily")]
            public partial void Close(int day);

            private void CloseCore(int day, LockLease lease, CancellationToken cancellationToken)
            {
                throw new NotImplementedException();
            }
        }
        """, runGenerator: true);
}
