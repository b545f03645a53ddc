using Locking.Analyzers.Tests.Infrastructure;
using VerifyRedis = Locking.Analyzers.Tests.Infrastructure.Verify<Locking.Analyzers.RedisLockKeyAnalyzer>;

namespace Locking.Analyzers.Tests;

/// <summary>LOCK002 (plain delete of a lock key), LOCK004 (a lock key left without an expiry) and LOCK014 (an owner shared by every holder).</summary>
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
        VerifyRedis.Diagnostic("LOCK002").WithSpan("/0/Test1.cs", 4, 44, 4, 70).WithSpan("/0/Test1.cs", 3, 46, 3, 120)
            .WithArguments("KeyDeleteAsync", "Key(id)", "; it can delete another owner's lock"));

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

    // ---- key identity ----

    [Fact]
    public Task A_parameter_named_alike_in_another_method_is_not_the_same_key() => VerifyRedis.AnalyzerAsync("""
        public sealed class RedisCache(IDatabase db)
        {
            public Task<bool> AddAsync(string key, string json) => db.StringSetAsync(key, json, TimeSpan.FromMinutes(5), When.NotExists);

            public Task<bool> RemoveAsync(string key) => db.KeyDeleteAsync(key);

            public async Task<bool> ReplaceAsync(string key, string json)
            {
                if (!await db.StringSetAsync(key, json, TimeSpan.FromMinutes(5), When.NotExists))
                {
                    await {|LOCK002:db.KeyDeleteAsync(key)|};
                }

                return true;
            }
        }
        """);

    [Fact]
    public Task Keys_match_by_literal_parts_and_members_in_place() => VerifyRedis.AnalyzerAsync("""
        public sealed class Profiles(IDatabase db)
        {
            private const string Prefix = "user:";
            private readonly string _tenant = "t1";

            public bool Lock(int id) => db.StringSet($"user:{id}:edit", "x", TimeSpan.FromSeconds(5), When.NotExists);
            public void Forget(int id) => db.KeyDelete($"user:{id}:profile");
            public void Unlock(int userId) => {|LOCK002:db.KeyDelete(Prefix + userId + ":edit")|};
            public void UnlockFormatted(int userId) => {|LOCK002:db.KeyDelete(string.Format("user:{0}:edit", userId))|};

            public bool LockTenant(string name) => db.StringSet(_tenant + ":" + name, "x", TimeSpan.FromSeconds(5), When.NotExists);
            public void UnlockTenant(string other) => {|LOCK002:db.KeyDelete(_tenant + ":" + other)|};
            public void ForgetName(string name) => db.KeyDelete(name + ":" + _tenant);
        }
        """);

    [Fact]
    public Task A_key_helper_matches_its_own_template_written_out() => VerifyRedis.AnalyzerAsync("""
        public sealed class Seats(IDatabase db)
        {
            private static string SeatKey(int seat) => $"seat:{seat}:hold";

            public Task<bool> HoldAsync(int seat, string token) => db.LockTakeAsync(SeatKey(seat), token, TimeSpan.FromMinutes(2));
            public Task<bool> DropAsync(int n) => {|LOCK002:db.KeyDeleteAsync("seat:" + n + ":hold")|};
            public Task<bool> DropInfoAsync(int n) => db.KeyDeleteAsync("seat:" + n + ":info");
        }
        """);

    [Fact]
    public Task A_lock_wrapper_that_releases_its_callers_key_by_deleting_is_flagged() => VerifyRedis.AnalyzerAsync("""
        public sealed class DistributedLockService(IDatabase db)
        {
            public Task<bool> AcquireAsync(string key, string owner, TimeSpan ttl) => db.LockTakeAsync(key, owner, ttl);

            public Task<bool> ReleaseAsync(string key) => {|LOCK002:db.KeyDeleteAsync(key)|};

            public Task<bool> PurgeAsync(string key) => db.KeyDeleteAsync(key);
        }

        public sealed class SessionStore(IDatabase db)
        {
            public Task<bool> AddAsync(string key, string value) => db.StringSetAsync(key, value, TimeSpan.FromMinutes(20), When.NotExists);

            public Task<bool> ReleaseAsync(string key) => db.KeyDeleteAsync(key);
        }
        """);

    // ---- LOCK002: more deletes ----

    [Fact]
    public Task Release_by_an_expiry_that_has_passed_is_a_delete() => VerifyRedis.AnalyzerAsync("""
        public sealed class Jobs(IDatabase db)
        {
            private static RedisKey Key(string job) => "job-lock:" + job;

            public Task<bool> TryAsync(string job, string token) => db.StringSetAsync(Key(job), token, TimeSpan.FromMinutes(1), When.NotExists);

            public Task<bool> ReleaseAsync(string job) => {|LOCK002:db.KeyExpireAsync(Key(job), TimeSpan.Zero)|};

            public bool ReleasePast(string job) => {|LOCK002:db.KeyExpire(Key(job), DateTime.UtcNow.AddSeconds(-1))|};

            public bool ReleaseNow(string job) => {|LOCK002:db.KeyExpire(Key(job), TimeSpan.FromMilliseconds(0))|};

            public void ReleaseByCommand(string job) => {|LOCK002:db.Execute("PEXPIRE", Key(job), 0)|};

            public RedisValue ReleaseAndRead(string job) => {|LOCK002:db.StringGetDelete(Key(job))|};

            public Task<bool> RefreshAsync(string job) => db.KeyExpireAsync(Key(job), TimeSpan.FromMinutes(1));
        }
        """);

    [Fact]
    public Task Owner_checked_transaction_is_not_a_plain_delete() => VerifyRedis.AnalyzerAsync("""
        public sealed class Leases(IDatabase db)
        {
            public Task<bool> TakeAsync(string name, string owner) => db.StringSetAsync("lease:" + name, owner, TimeSpan.FromSeconds(30), When.NotExists);

            public async Task<bool> ReleaseAsync(string name, string owner)
            {
                var key = "lease:" + name;
                var transaction = db.CreateTransaction();
                transaction.AddCondition(Condition.StringEqual(key, owner));
                _ = transaction.KeyDeleteAsync(key);
                return await transaction.ExecuteAsync();
            }

            public async Task<bool> ForceAsync(string name)
            {
                var transaction = db.CreateTransaction();
                transaction.AddCondition(Condition.KeyExists("lease:" + name));
                _ = {|LOCK002:transaction.KeyDeleteAsync("lease:" + name)|};
                return await transaction.ExecuteAsync();
            }
        }
        """);

    [Fact]
    public Task A_script_that_deletes_without_comparing_is_a_plain_delete() => VerifyRedis.AnalyzerAsync("""
        public sealed class Scripts(IDatabase db)
        {
            private const string Unlock = "return redis.call('del', KEYS[1])";

            public bool Lock(string name, string me) => db.LockTake("lock:" + name, me, TimeSpan.FromSeconds(10));

            public void Release(string name) => {|LOCK002:db.ScriptEvaluate(Unlock, new RedisKey[] { "lock:" + name })|};
        }
        """);

    [Fact]
    public Task Deleting_a_lock_key_with_the_data_it_guards_says_so() => VerifyRedis.AnalyzerAsync("""
        public sealed class Rooms(IDatabase db)
        {
            public Task<bool> LockAsync(string room, string token) => db.LockTakeAsync($"room:{room}:lock", token, TimeSpan.FromSeconds(30));

            public async Task DeleteRoomAsync(string room)
            {
                await db.KeyDeleteAsync(new RedisKey[] { $"room:{room}:state", $"room:{room}:meta" });
                await db.KeyDeleteAsync($"room:{room}:lock");
            }
        }
        """,
        VerifyRedis.Diagnostic("LOCK002").WithSpan("/0/Test1.cs", 8, 15, 8, 53).WithSpan("/0/Test1.cs", 3, 63, 3, 133)
            .WithArguments("KeyDeleteAsync", "$\"room:{room}:lock\"", ", together with the data it guards ('$\"room:{room}:state\"'): if this is a deliberate reset, suppress LOCK002 here with a justification"));

    [Fact]
    public Task Reading_the_owner_before_a_plain_delete_says_why_that_does_not_help() => VerifyRedis.AnalyzerAsync("""
        public sealed class CheckThenDelete(IDatabase db)
        {
            public bool Take(string name, string token) => db.LockTake("lock:" + name, token, TimeSpan.FromSeconds(10));

            public void Release(string name, string token)
            {
                if (db.StringGet("lock:" + name) == token)
                {
                    db.KeyDelete("lock:" + name);
                }
            }
        }
        """,
        VerifyRedis.Diagnostic("LOCK002").WithSpan("/0/Test1.cs", 9, 13, 9, 41).WithSpan("/0/Test1.cs", 3, 52, 3, 112)
            .WithArguments("KeyDelete", "\"lock:\" + name", "; reading the owner first does not help, since the lock can change hands between the read and the delete"));

    // ---- LOCK004: more shapes ----

    [Fact]
    public Task Increment_then_expire_is_a_non_atomic_acquire() => VerifyRedis.AnalyzerAsync("""
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

            public long Count(string page)
            {
                db.StringIncrement("hits:" + page);
                db.KeyExpire("hits:" + page, TimeSpan.FromDays(1));
                return 0;
            }
        }
        """);

    [Fact]
    public Task Plain_set_then_expire_on_a_lock_key_and_hash_set_NX_then_expire_are_flagged() => VerifyRedis.AnalyzerAsync("""
        public sealed class Acquire(IDatabase db)
        {
            public bool Take(string name, string me)
            {
                if (db.KeyExists("lock:" + name))
                {
                    return false;
                }

                {|LOCK004:db.StringSet("lock:" + name, me)|};
                db.KeyExpire("lock:" + name, TimeSpan.FromSeconds(30));
                return true;
            }

            public bool TakeField(string name, string me)
            {
                if (!{|LOCK004:db.HashSet("locks", name, me, When.NotExists)|})
                {
                    return false;
                }

                db.KeyExpire("locks", TimeSpan.FromSeconds(30));
                return true;
            }

            public void Cache(string id, string json)
            {
                db.StringSet("product:" + id, json);
                db.KeyExpire("product:" + id, TimeSpan.FromMinutes(5));
            }

            public void InTransaction(string name, string me)
            {
                var transaction = db.CreateTransaction();
                _ = transaction.StringSetAsync("lock:" + name, me);
                _ = transaction.KeyExpireAsync("lock:" + name, TimeSpan.FromSeconds(30));
                transaction.Execute();
            }
        }
        """);

    [Fact]
    public Task Removing_the_expiry_of_a_lock_key_is_flagged() => VerifyRedis.AnalyzerAsync("""
        public sealed class Holder(IDatabase db)
        {
            public bool Take(string name, string token) => db.LockTake("mutex:" + name, token, TimeSpan.FromSeconds(30));

            public bool HoldForever(string name) => {|LOCK004:db.KeyExpire("mutex:" + name, (TimeSpan?)null)|};

            public bool Persist(string name) => {|LOCK004:db.KeyPersist("mutex:" + name)|};

            public bool PersistCache(string id) => db.KeyPersist("product:" + id);
        }
        """);

    // ---- LOCK014 ----

    [Fact]
    public Task Owners_that_are_the_same_for_every_holder_are_flagged() => VerifyRedis.AnalyzerAsync("""
        public sealed class SharedOwners(IDatabase db)
        {
            private static readonly string InstanceId = Guid.NewGuid().ToString();
            private const string Locked = "locked";

            public async Task ConstantAsync(string job)
            {
                if (!await db.LockTakeAsync("job:" + job, "1", TimeSpan.FromMinutes(1))) return;
                try { await Task.Yield(); }
                finally { await {|LOCK014:db.LockReleaseAsync("job:" + job, "1")|}; }
            }

            public async Task MachineAsync(string job)
            {
                var owner = Environment.MachineName;
                if (!await db.LockTakeAsync("job:" + job, owner, TimeSpan.FromMinutes(1))) return;
                await {|LOCK014:db.LockExtendAsync("job:" + job, owner, TimeSpan.FromMinutes(1))|};
                await {|LOCK014:db.LockReleaseAsync("job:" + job, owner)|};
            }

            public bool FromTheKey(string job) => db.LockTake("job:" + job, job, TimeSpan.FromMinutes(1));
            public bool ReleaseFromTheKey(string job) => {|LOCK014:db.LockRelease("job:" + job, job)|};

            public bool StaticTake(string job) => db.LockTake("job:" + job, InstanceId, TimeSpan.FromMinutes(1));
            public bool StaticRelease(string job) => {|LOCK014:db.LockRelease("job:" + job, InstanceId)|};

            public bool ThreadTake(string job) => db.LockTake("job:" + job, Environment.CurrentManagedThreadId, TimeSpan.FromMinutes(1));
            public bool ThreadRelease(string job) => {|LOCK014:db.LockRelease("job:" + job, Thread.CurrentThread.ManagedThreadId)|};

            public bool ValueConditionRelease(string job) => {|LOCK014:db.StringDelete("job:" + job, ValueCondition.Equal(Locked))|};

            public bool HostAndProcess(string job)
                => {|LOCK014:db.LockRelease("job:" + job, $"{Environment.MachineName}:{Environment.ProcessId}")|};
        }
        """);

    [Fact]
    public Task Shared_owners_in_scripts_and_transactions_are_flagged() => VerifyRedis.AnalyzerAsync(""""
        public sealed class ScriptedLock(IDatabase db)
        {
            private const string Release = """
                if redis.call("GET", KEYS[1]) == ARGV[1] then
                    return redis.call("DEL", KEYS[1])
                end
                return 0
                """;

            private static readonly LuaScript Extend = LuaScript.Prepare(
                "if redis.call('get', @key) == @owner then return redis.call('pexpire', @key, @ttl) else return 0 end");

            public bool Take(string name) => db.StringSet("lock:" + name, Environment.MachineName, TimeSpan.FromSeconds(10), When.NotExists);

            public void Free(string name) => {|LOCK014:db.ScriptEvaluate(Release, new RedisKey[] { "lock:" + name }, new RedisValue[] { Environment.MachineName })|};

            public void Renew(string name)
                => {|LOCK014:db.ScriptEvaluate(Extend, new { key = (RedisKey)("lock:" + name), owner = Environment.MachineName, ttl = 10000 })|};

            public async Task<bool> FreeInTransactionAsync(string name)
            {
                var transaction = db.CreateTransaction();
                transaction.AddCondition({|LOCK014:Condition.StringEqual("lock:" + name, Environment.MachineName)|});
                _ = transaction.KeyDeleteAsync("lock:" + name);
                return await transaction.ExecuteAsync();
            }
        }
        """");

    [Fact]
    public Task A_field_set_once_per_instance_is_shared_when_the_key_changes_per_call() => VerifyRedis.AnalyzerAsync("""
        public sealed class LockService(IDatabase db)
        {
            private readonly string _owner = Guid.NewGuid().ToString("N");

            public Task<bool> AcquireAsync(string resource) => db.LockTakeAsync("lock:" + resource, _owner, TimeSpan.FromSeconds(30));

            public Task<bool> ReleaseAsync(string resource) => {|LOCK014:db.LockReleaseAsync("lock:" + resource, _owner)|};
        }

        public sealed class OneLock(IDatabase db, string name)
        {
            private readonly RedisKey _key = "lock:" + name;
            private readonly string _owner = Guid.NewGuid().ToString("N");

            public Task<bool> AcquireAsync() => db.LockTakeAsync(_key, _owner, TimeSpan.FromSeconds(30));

            public Task<bool> ReleaseAsync() => db.LockReleaseAsync(_key, _owner);
        }

        public sealed class Election(IDatabase db)
        {
            private readonly string _candidate = Guid.NewGuid().ToString("N");

            public bool TryLead() => db.LockTake("election:leader", _candidate, TimeSpan.FromSeconds(10));

            public bool StepDown() => db.LockRelease("election:leader", _candidate);
        }
        """);

    [Fact]
    public Task Owners_that_are_new_per_acquisition_or_come_from_the_caller_are_fine() => VerifyRedis.AnalyzerAsync("""
        public sealed class GoodOwners(IDatabase db)
        {
            private string? _token;

            public async Task RunAsync(string job)
            {
                var token = Guid.NewGuid().ToString("N");
                if (!await db.LockTakeAsync("job:" + job, token, TimeSpan.FromMinutes(1))) return;
                try { await db.LockExtendAsync("job:" + job, token, TimeSpan.FromMinutes(1)); }
                finally { await db.LockReleaseAsync("job:" + job, token); }
            }

            public bool Take(string job, string token) => db.LockTake("job:" + job, token, TimeSpan.FromMinutes(1));
            public bool Release(string job, string token) => db.LockRelease("job:" + job, token);

            public bool TakeStored(string job)
            {
                _token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
                return db.LockTake("stored:" + job, _token, TimeSpan.FromMinutes(1));
            }

            public bool ReleaseStored(string job) => db.LockRelease("stored:" + job, _token);

            public bool HostAndGuid(string job) => db.LockRelease("job:" + job, $"{Environment.MachineName}:{Guid.NewGuid()}");
        }
        """);

    [Fact]
    public Task A_shared_owner_at_the_acquire_is_flagged_when_the_release_takes_it_from_the_caller() => VerifyRedis.AnalyzerAsync("""
        public sealed class Jobs(IDatabase db)
        {
            public bool Take(string job) => {|LOCK014:db.LockTake("job:" + job, Environment.MachineName, TimeSpan.FromMinutes(1))|};

            public bool Release(string job, string owner) => db.LockRelease("job:" + job, owner);
        }
        """);
}
