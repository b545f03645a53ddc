using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>Locking's <see cref="RedisLockProvider"/> with its defaults (renewal every Ttl/3 on one scheduler).</summary>
internal sealed class LockingLibrary(ConnectionMultiplexer connection) : LockLibrary<LockLease>(connection)
{
    private readonly RedisLockProvider _provider = new(connection);
    private LockOptions _options = LockOptions.Default;

    protected override void OnConfigured() => _options = new LockOptions { Ttl = Ttl, Wait = Wait };

    public override ValueTask<LockLease?> TryAcquireAsync(string key, CancellationToken cancellationToken)
        => _provider.TryAcquireAsync(key, _options, cancellationToken);

    public override ValueTask ReleaseAsync(string key, LockLease handle) => handle.DisposeAsync();

    public override bool IsLost(LockLease handle) => handle.IsLost;

    public override async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
        await base.DisposeAsync();
    }
}
