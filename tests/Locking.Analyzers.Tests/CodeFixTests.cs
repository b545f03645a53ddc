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
    public Task LOCK002_gives_the_acquisition_its_own_owner_and_carries_it_to_the_extend_and_the_release() => Verify<RedisLockKeyAnalyzer, OwnerCheckedReleaseCodeFix>.CodeFixAsync("""
        public sealed class Reports(IDatabase db)
        {
            public async Task BuildAsync(string day)
            {
                var key = "report:" + day;
                if (!await db.StringSetAsync(key, Environment.MachineName, TimeSpan.FromMinutes(1), When.NotExists))
                {
                    return;
                }

                try
                {
                    await {|LOCK014:db.LockExtendAsync(key, Environment.MachineName, TimeSpan.FromMinutes(1))|};
                }
                finally
                {
                    await {|LOCK002:db.KeyDeleteAsync(key)|};
                }
            }
        }
        """, """
        public sealed class Reports(IDatabase db)
        {
            private const string CompareAndDeleteScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

            public async Task BuildAsync(string day)
            {
                var key = "report:" + day;
                var owner = Guid.NewGuid().ToString("N");
                if (!await db.StringSetAsync(key, owner, TimeSpan.FromMinutes(1), When.NotExists))
                {
                    return;
                }

                try
                {
                    await db.LockExtendAsync(key, owner, TimeSpan.FromMinutes(1));
                }
                finally
                {
                    await db.ScriptEvaluateAsync(CompareAndDeleteScript, new RedisKey[] { key }, new RedisValue[] { owner });
                }
            }
        }
        """);

    [Fact]
    public Task LOCK002_keeps_an_owner_that_is_already_per_acquisition() => Verify<RedisLockKeyAnalyzer, OwnerCheckedReleaseCodeFix>.CodeFixAsync("""
        public sealed class OneLock(IDatabase db, string name)
        {
            private readonly RedisKey _key = "lock:" + name;
            private readonly string _token = Guid.NewGuid().ToString("N");

            public Task<bool> TryEnterAsync() => db.StringSetAsync(_key, _token, TimeSpan.FromSeconds(30), When.NotExists);

            public async Task ExitAsync()
            {
                await {|LOCK002:db.KeyDeleteAsync(_key)|};
            }

            public bool Exit() => {|LOCK002:db.KeyDelete(_key, CommandFlags.DemandMaster)|};

            public async Task RunAsync(string job)
            {
                var token = Guid.NewGuid().ToString();
                if (await db.LockTakeAsync("job:" + job, token, TimeSpan.FromMinutes(1)))
                {
                    {|LOCK002:db.KeyDelete("job:" + job)|};
                }
            }
        }
        """, """
        public sealed class OneLock(IDatabase db, string name)
        {
            private const string CompareAndDeleteScript = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
            private readonly RedisKey _key = "lock:" + name;
            private readonly string _token = Guid.NewGuid().ToString("N");

            public Task<bool> TryEnterAsync() => db.StringSetAsync(_key, _token, TimeSpan.FromSeconds(30), When.NotExists);

            public async Task ExitAsync()
            {
                await db.ScriptEvaluateAsync(CompareAndDeleteScript, new RedisKey[] { _key }, new RedisValue[] { _token });
            }

            public bool Exit() => (bool)db.ScriptEvaluate(CompareAndDeleteScript, new RedisKey[] { _key }, new RedisValue[] { _token }, flags: CommandFlags.DemandMaster);

            public async Task RunAsync(string job)
            {
                var token = Guid.NewGuid().ToString();
                if (await db.LockTakeAsync("job:" + job, token, TimeSpan.FromMinutes(1)))
                {
                    db.ScriptEvaluate(CompareAndDeleteScript, new RedisKey[] { "job:" + job }, new RedisValue[] { token });
                }
            }
        }
        """);

    [Fact]
    public Task LOCK002_offers_no_fix_when_a_shared_owner_is_stored_in_another_method() => Verify<RedisLockKeyAnalyzer, OwnerCheckedReleaseCodeFix>.CodeFixAsync("""
        public sealed class RedisMutex(IDatabase db)
        {
            private readonly string _token = Guid.NewGuid().ToString();

            public Task<bool> TryEnterAsync(string name) => db.StringSetAsync("mutex:" + name, _token, TimeSpan.FromSeconds(30), When.NotExists);

            public Task<bool> TryEnterHereAsync(string name) => db.StringSetAsync("host:" + name, Environment.MachineName, TimeSpan.FromSeconds(30), When.NotExists);

            public Task ExitAsync(string name) => {|LOCK002:db.KeyDeleteAsync("mutex:" + name)|};

            public Task ExitHereAsync(string name) => {|LOCK002:db.KeyDeleteAsync("host:" + name)|};
        }
        """, """
        public sealed class RedisMutex(IDatabase db)
        {
            private readonly string _token = Guid.NewGuid().ToString();

            public Task<bool> TryEnterAsync(string name) => db.StringSetAsync("mutex:" + name, _token, TimeSpan.FromSeconds(30), When.NotExists);

            public Task<bool> TryEnterHereAsync(string name) => db.StringSetAsync("host:" + name, Environment.MachineName, TimeSpan.FromSeconds(30), When.NotExists);

            public Task ExitAsync(string name) => {|LOCK002:db.KeyDeleteAsync("mutex:" + name)|};

            public Task ExitHereAsync(string name) => {|LOCK002:db.KeyDeleteAsync("host:" + name)|};
        }
        """);

    [Fact]
    public Task LOCK014_gives_a_shared_local_a_new_GUID() => Verify<RedisLockKeyAnalyzer, SharedOwnerCodeFix>.CodeFixAsync("""
        public sealed class Jobs(IDatabase db)
        {
            public async Task RunAsync(string job)
            {
                var owner = Environment.MachineName;
                if (!await db.LockTakeAsync("job:" + job, owner, TimeSpan.FromMinutes(1)))
                {
                    return;
                }

                try
                {
                    await {|LOCK014:db.LockExtendAsync("job:" + job, owner, TimeSpan.FromMinutes(1))|};
                }
                finally
                {
                    await {|LOCK014:db.LockReleaseAsync("job:" + job, owner)|};
                }
            }

            public bool RunConstant(string job)
            {
                const string token = "locked";
                if (!db.LockTake("nightly:" + job, token, TimeSpan.FromMinutes(1)))
                {
                    return false;
                }

                return {|LOCK014:db.LockRelease("nightly:" + job, token)|};
            }
        }
        """, """
        public sealed class Jobs(IDatabase db)
        {
            public async Task RunAsync(string job)
            {
                var owner = Guid.NewGuid().ToString("N");
                if (!await db.LockTakeAsync("job:" + job, owner, TimeSpan.FromMinutes(1)))
                {
                    return;
                }

                try
                {
                    await db.LockExtendAsync("job:" + job, owner, TimeSpan.FromMinutes(1));
                }
                finally
                {
                    await db.LockReleaseAsync("job:" + job, owner);
                }
            }

            public bool RunConstant(string job)
            {
                string token = Guid.NewGuid().ToString("N");
                if (!db.LockTake("nightly:" + job, token, TimeSpan.FromMinutes(1)))
                {
                    return false;
                }

                return db.LockRelease("nightly:" + job, token);
            }
        }
        """);

    [Fact]
    public Task LOCK014_declares_the_new_owner_where_the_release_can_see_it() => Verify<RedisLockKeyAnalyzer, SharedOwnerCodeFix>.CodeFixAsync("""
        public sealed class Jobs(IDatabase db)
        {
            public async Task RunAsync(string job)
            {
                try
                {
                    if (!await db.LockTakeAsync("job:" + job, "1", TimeSpan.FromMinutes(1)))
                    {
                        return;
                    }

                    await Task.Yield();
                }
                finally
                {
                    await {|LOCK014:db.LockReleaseAsync("job:" + job, "1")|};
                }
            }
        }
        """, """
        public sealed class Jobs(IDatabase db)
        {
            public async Task RunAsync(string job)
            {
                var owner = Guid.NewGuid().ToString("N");
                try
                {
                    if (!await db.LockTakeAsync("job:" + job, owner, TimeSpan.FromMinutes(1)))
                    {
                        return;
                    }

                    await Task.Yield();
                }
                finally
                {
                    await db.LockReleaseAsync("job:" + job, owner);
                }
            }
        }
        """);

    [Fact]
    public Task LOCK014_offers_no_fix_across_methods() => Verify<RedisLockKeyAnalyzer, SharedOwnerCodeFix>.CodeFixAsync("""
        public sealed class LockService(IDatabase db)
        {
            private readonly string _owner = Guid.NewGuid().ToString("N");

            public Task<bool> AcquireAsync(string resource) => db.LockTakeAsync("lock:" + resource, _owner, TimeSpan.FromSeconds(30));

            public Task<bool> ReleaseAsync(string resource) => {|LOCK014:db.LockReleaseAsync("lock:" + resource, _owner)|};
        }
        """, """
        public sealed class LockService(IDatabase db)
        {
            private readonly string _owner = Guid.NewGuid().ToString("N");

            public Task<bool> AcquireAsync(string resource) => db.LockTakeAsync("lock:" + resource, _owner, TimeSpan.FromSeconds(30));

            public Task<bool> ReleaseAsync(string resource) => {|LOCK014:db.LockReleaseAsync("lock:" + resource, _owner)|};
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
    public Task LOCK004_takes_a_counter_lock_with_one_SET_NX_PX() => Verify<RedisLockKeyAnalyzer, AtomicAcquireCodeFix>.CodeFixAsync("""
        public sealed class OnceGuard(IDatabase db)
        {
            public async Task<bool> TryEnterAsync(string id)
            {
                if (await {|LOCK004:db.StringIncrementAsync("once:" + id)|} != 1)
                {
                    return false;
                }

                await db.KeyExpireAsync("once:" + id, TimeSpan.FromMinutes(5));
                return true;
            }

            public bool TryEnter(string id)
            {
                var won = {|LOCK004:db.StringIncrement("once:" + id)|} == 1;
                db.KeyExpire("once:" + id, TimeSpan.FromMinutes(5));
                return won;
            }

            public bool TryPlain(string name, string me)
            {
                {|LOCK004:db.StringSet("lock:" + name, me)|};
                db.KeyExpire("lock:" + name, TimeSpan.FromSeconds(30));
                return true;
            }
        }
        """, """
        public sealed class OnceGuard(IDatabase db)
        {
            public async Task<bool> TryEnterAsync(string id)
            {
                if (!await db.StringSetAsync("once:" + id, 1, TimeSpan.FromMinutes(5), When.NotExists))
                {
                    return false;
                }

                return true;
            }

            public bool TryEnter(string id)
            {
                var won = db.StringSet("once:" + id, 1, TimeSpan.FromMinutes(5), When.NotExists);
                return won;
            }

            public bool TryPlain(string name, string me)
            {
                db.StringSet("lock:" + name, me, TimeSpan.FromSeconds(30));
                return true;
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
