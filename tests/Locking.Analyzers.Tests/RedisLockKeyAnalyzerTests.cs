using Locking.Analyzers.Tests.Infrastructure;
using VerifyRedis = Locking.Analyzers.Tests.Infrastructure.Verify<Locking.Analyzers.RedisLockKeyAnalyzer>;

namespace Locking.Analyzers.Tests;

/// <summary>LOCK002 (plain delete of a lock key) and LOCK004 (SET NX, then a separate EXPIRE).</summary>
public sealed class RedisLockKeyAnalyzerTests
{
    [Fact]
    public Task Classic_hand_written_lock_is_flagged_twice() => VerifyRedis.AnalyzerAsync("""
        public sealed class RedisMutex(IDatabase db)
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

            public void Exit(string name) => {|LOCK002:db.KeyDelete("mutex:" + name)|};
        }
        """);

    [Fact]
    public Task Message_names_the_call_and_the_key() => VerifyRedis.AnalyzerAsync("""
        public sealed class Locks(IDatabase db)
        {
            public Task<bool> TryAsync(string id) => db.StringSetAsync(Key(id), "me", TimeSpan.FromSeconds(30), When.NotExists);
            public Task ReleaseAsync(string id) => db.KeyDeleteAsync(Key(id));
            private static RedisKey Key(string id) => "orders:" + id;
        }
        """,
        VerifyRedis.Diagnostic("LOCK002").WithSpan("/0/Test1.cs", 4, 44, 4, 70).WithSpan("/0/Test1.cs", 3, 46, 3, 120).WithArguments("KeyDeleteAsync", "Key(id)"));

    [Fact]
    public Task Same_field_and_Execute_DEL_are_flagged() => VerifyRedis.AnalyzerAsync("""
        public sealed class LeaderElection(IDatabase db)
        {
            private readonly RedisKey _leaderKey = "election:leader";
            private readonly string _me = Guid.NewGuid().ToString();

            public async Task<bool> TryLeadAsync() => await db.StringSetAsync(_leaderKey, _me, TimeSpan.FromSeconds(10), When.NotExists);

            public async Task StepDownAsync() => await {|LOCK002:db.ExecuteAsync("UNLINK", _leaderKey)|};

            public void StepDownNow() => {|LOCK002:db.Execute("del", (RedisKey)"election:leader")|};
        }
        """);

    [Fact]
    public Task Same_local_initializer_and_LockTake_are_flagged() => VerifyRedis.AnalyzerAsync("""
        public sealed class Jobs(IDatabase db)
        {
            public async Task RunAsync(string job, RedisValue token)
            {
                var key = $"jobs:{job}";
                if (!await db.LockTakeAsync(key, token, TimeSpan.FromMinutes(1)))
                {
                    return;
                }

                try { await Task.Yield(); }
                finally { await {|LOCK002:db.KeyDeleteAsync(key)|}; }
            }
        }
        """);

    [Fact]
    public Task Same_constant_prefix_is_flagged() => VerifyRedis.AnalyzerAsync("""
        public sealed class Reservations(IDatabase db)
        {
            public bool Reserve(int seat, string user) => db.StringSet($"seat:{seat}", user, TimeSpan.FromMinutes(5), When.NotExists);
            public void Cancel(int seat) => {|LOCK002:db.KeyDelete("seat:" + seat.ToString())|};
            public void CancelMany(int a, int b) => {|LOCK002:db.KeyDelete(new RedisKey[] { "seat:" + a, "seat:" + b })|};
        }
        """);

    [Fact]
    public Task Keys_under_a_lock_prefix_are_flagged_without_a_set_in_sight() => VerifyRedis.AnalyzerAsync("""
        public sealed class Janitor(IDatabase db)
        {
            public void Unlock(string name) => {|LOCK002:db.KeyDelete("lock:" + name)|};
            public Task UnlockAsync(string name) => {|LOCK002:db.KeyDeleteAsync($"billing:lock:{name}")|};
            public Task ForgetAsync(string name) => db.KeyDeleteAsync($"locksmiths:{name}");
        }
        """);

    [Fact]
    public Task Caches_that_delete_their_own_keys_are_fine() => VerifyRedis.AnalyzerAsync("""
        public sealed class ProductCache(IDatabase db)
        {
            private static RedisKey Key(int id) => "product:" + id;

            public Task SetAsync(int id, string json) => db.StringSetAsync(Key(id), json, TimeSpan.FromMinutes(10));

            public async Task AddIfMissingAsync(int id, string json) => await db.StringSetAsync(Key(id), json, TimeSpan.FromMinutes(10), When.NotExists);

            public Task InvalidateAsync(int id) => db.KeyDeleteAsync(Key(id));

            public void InvalidateAll(int[] ids) => db.KeyDelete(Array.ConvertAll(ids, Key));
        }
        """);

    [Fact]
    public Task Owner_checked_releases_are_fine() => VerifyRedis.AnalyzerAsync("""
        public sealed class SafeLock(IDatabase db)
        {
            private const string Release = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

            public Task<bool> TryAsync(string name, string token) => db.StringSetAsync("lock:" + name, token, TimeSpan.FromSeconds(30), When.NotExists);

            public Task ReleaseAsync(string name, string token)
                => db.ScriptEvaluateAsync(Release, new RedisKey[] { "lock:" + name }, new RedisValue[] { token });

            public bool ReleaseWithDelex(string name, string token) => db.StringDelete("lock:" + name, ValueCondition.Equal(token));

            public bool ReleaseBuiltIn(string name, string token) => db.LockRelease("lock:" + name, token);
        }
        """);

    [Fact]
    public Task Unrelated_keys_are_fine() => VerifyRedis.AnalyzerAsync("""
        public sealed class Orders(IDatabase db)
        {
            public bool Claim(string id) => db.StringSet("claim:" + id, "1", TimeSpan.FromSeconds(30), When.NotExists);
            public void Forget(string id) => db.KeyDelete("order:" + id);
        }

        public sealed class Other(IDatabase db)
        {
            public void Forget(string id) => db.KeyDelete("claim:" + id);
        }
        """);

    [Fact]
    public Task Set_NX_with_expiry_or_a_script_is_fine() => VerifyRedis.AnalyzerAsync("""
        public sealed class Acquire(IDatabase db)
        {
            public bool Atomic(string key, string token, TimeSpan ttl) => db.StringSet(key, token, ttl, When.NotExists);

            public bool AtomicExpiration(string key, string token) => db.StringSet(key, token, new Expiration(TimeSpan.FromSeconds(5)), ValueCondition.NotExists);

            public bool Script(string key, string token)
                => (bool)db.ScriptEvaluate("return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', 30000) and 1 or 0", new RedisKey[] { key }, new RedisValue[] { token });

            public void Refresh(string key, TimeSpan ttl) => db.KeyExpire(key, ttl);

            public bool ExpireOtherKey(string key, string token)
            {
                db.StringSet(key, token, when: When.NotExists);
                return db.KeyExpire("audit:" + key, TimeSpan.FromDays(1));
            }
        }
        """);

    [Fact]
    public Task Set_NX_without_expiry_then_expire_in_async_code_is_flagged() => VerifyRedis.AnalyzerAsync("""
        public sealed class Acquire(IDatabase db)
        {
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

            public async Task<bool> TryWithValueConditionAsync(string id, string token)
            {
                if (!await {|LOCK004:db.StringSetAsync("job:" + id, token, when: ValueCondition.NotExists)|}) return false;
                await db.KeyExpireAsync("job:" + id, DateTime.UtcNow.AddSeconds(30));
                return true;
            }
        }
        """);
}
