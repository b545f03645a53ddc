using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>
/// DistributedLock.Redis with its defaults (busy-wait polling between attempts, auto-extension every Expiry/3),
/// Expiry set to the case's Ttl. A lock object per acquisition, as dynamic keys need.
/// </summary>
internal sealed class DistributedLockLibrary(ConnectionMultiplexer connection) : LockLibrary<RedisDistributedLockHandle>(connection)
{
    private RedisDistributedSynchronizationProvider _provider = null!;

    protected override void OnConfigured()
    {
        var ttl = Ttl;
        _provider = new RedisDistributedSynchronizationProvider(Connection.GetDatabase(), options => options.Expiry(ttl));
    }

    public override ValueTask<RedisDistributedLockHandle?> TryAcquireAsync(string key, CancellationToken cancellationToken)
        => _provider.CreateLock(key).TryAcquireAsync(Wait, cancellationToken);

    public override ValueTask ReleaseAsync(string key, RedisDistributedLockHandle handle) => handle.DisposeAsync();

    public override bool IsLost(RedisDistributedLockHandle handle) => handle.HandleLostToken.IsCancellationRequested;
}
