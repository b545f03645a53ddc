using RedLockNet;
using RedLockNet.SERedis;
using RedLockNet.SERedis.Configuration;
using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>
/// RedLock.net on one master with its defaults (three quorum attempts with random sleeps of up to 400 ms on a
/// conflict, auto-extension every expiry/2), retrying a busy key every 10 ms, the shortest it accepts.
/// </summary>
internal sealed class RedLockLibrary : LockLibrary<IRedLock>
{
    private static readonly TimeSpan s_retry = TimeSpan.FromMilliseconds(10);
    private readonly RedLockFactory _factory;

    public RedLockLibrary(ConnectionMultiplexer connection, bool verifier)
        : base(connection)
    {
        // A verifier only asks "is this key free?": one attempt, no quorum retry sleeps.
        var retry = verifier ? new RedLockRetryConfiguration(retryCount: 1, retryDelayMs: 10) : null;
        _factory = RedLockFactory.Create([new RedLockMultiplexer(connection)], retry);
    }

    public override ValueTask<IRedLock?> TryAcquireAsync(string key, CancellationToken cancellationToken)
        => new(_factory.CreateLockAsync(key, Ttl, Wait, s_retry, cancellationToken)!);

    public override bool IsAcquired(IRedLock? handle) => handle is { IsAcquired: true };

    public override ValueTask ReleaseAsync(string key, IRedLock handle) => handle.DisposeAsync();

    // A lock that did not acquire is disposed too, as a `using` would: RedLock.net then sends its unlock script.
    public override ValueTask DiscardAsync(IRedLock handle) => handle.DisposeAsync();

    public override bool IsLost(IRedLock handle) => !handle.IsAcquired;

    public override async ValueTask DisposeAsync()
    {
        _factory.Dispose();
        await base.DisposeAsync();
    }
}
