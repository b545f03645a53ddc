using System.Security.Cryptography;
using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>
/// The floor: a raw StackExchange.Redis loop sending exactly Locking's store commands (the same acquire and release
/// scripts with the same keys and arguments, built by the same code), without anything else of the library: no
/// lease object, no validity clock, no renewal scheduler, no reentrancy check, no wait queue, no telemetry. A waiter
/// sleeps until a release notice for its key (or a 50 ms safety re-check) and then races the others.
/// Locking's ratio to this is what its own work costs on top of the commands it must send.
/// </summary>
internal sealed class FloorLibrary : LockLibrary<LeaseArguments>
{
    private readonly IDatabase _database;
    private readonly RedisKeyspace _keyspace = new(RedisLockProviderOptions.Default.KeyPrefix);
    private readonly LeaseScriptSettings _settings = new((long)RedisLockProviderOptions.Default.FencingCounterRetention.TotalMilliseconds, RedisValue.EmptyString, new ProcessId());
    private readonly ReleaseNotices _notices;
    private long _ttlMs;

    public FloorLibrary(ConnectionMultiplexer connection)
        : base(connection)
    {
        _database = connection.GetDatabase();
        _notices = new ReleaseNotices(connection, RedisChannel.Literal("floor:released"), static notice => (string?)notice);
    }

    protected override void OnConfigured() => _ttlMs = (long)Ttl.TotalMilliseconds;

    public override async ValueTask<LeaseArguments?> TryAcquireAsync(string key, CancellationToken cancellationToken)
    {
        var owner = new Guid(RandomNumberGenerator.GetBytes(16));
        var lease = new LeaseArguments(_settings, _keyspace.LockKey(key), owner, _ttlMs, 0, owner, LeaseMode.Grant);
        if (await RunAsync(RedisLeaseScripts.Script.Acquire, lease) > 0)
        {
            return lease;
        }

        return Wait == TimeSpan.Zero ? null : await WaitAsync(lease, cancellationToken);
    }

    /// <summary>One script, by SHA1; by its text when the server does not know it yet.</summary>
    private async ValueTask<long> RunAsync(RedisLeaseScripts.Script script, LeaseArguments lease)
    {
        try
        {
            return (long)await RedisLeaseScripts.Run(_database, script, lease);
        }
        catch (RedisServerException ex) when (RedisLeaseScripts.IsNoScript(ex))
        {
            return (long)await RedisLeaseScripts.Run(_database, script, lease, byText: true);
        }
    }

    private async ValueTask<LeaseArguments?> WaitAsync(LeaseArguments lease, CancellationToken cancellationToken)
        => await _notices.WaitAsync(lease.LockKey, Wait, async () => await RunAsync(RedisLeaseScripts.Script.Acquire, lease) > 0, cancellationToken)
            ? lease
            : null;

    public override async ValueTask ReleaseAsync(string key, LeaseArguments lease)
        => await RunAsync(RedisLeaseScripts.Script.Release, lease);

    public override bool IsLost(LeaseArguments handle) => false;
}
