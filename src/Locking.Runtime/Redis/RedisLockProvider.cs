using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// Leases in Redis: on one server (or a cluster, or a primary with replicas) through one connection, or on several
/// independent primaries with the Redlock quorum.
/// </summary>
/// <remarks>
/// <para>
/// Every store operation is one Lua script and one round trip: acquire (SET NX PX plus a fencing token; when the key
/// is held it queues the caller and answers the holder's remaining TTL), renew (compare owner, then PEXPIRE) and
/// release (compare owner, then DEL and hand the key over). The lease of key K lives in <c>{prefix}{K}</c>, its
/// fencing counter in <c>{prefix}{K}:fence</c> and its wait queue in <c>{prefix}{K}:queue</c> and
/// <c>{prefix}{K}:waiters</c>: one cluster slot.
/// </para>
/// <para>
/// Fencing tokens are the larger of the key's last token + 1 and the server clock in microseconds, so they keep
/// increasing after FLUSHALL or a restart that lost the data, as long as the server clock does not step back
/// further than the time between the two acquires. The counter expires
/// <see cref="RedisLockProviderOptions.FencingCounterRetention"/> after its lease: no key is kept forever. With
/// Redlock the quorum's token is written to a majority before the lease is handed out, so tokens are strictly
/// increasing there too.
/// </para>
/// <para>
/// Waiting costs no polling. On one deployment the waiters of a key queue in Redis, first come first served across
/// processes, and a release grants the key to the first of them and tells only that waiter's process, on the key's
/// own (sharded, on Redis 7+) channel; nothing is published when nobody waits. With Redlock the waiters are told
/// that the key is free and race for it.
/// </para>
/// </remarks>
public sealed partial class RedisLockProvider : LockProvider
{
    private readonly RedisLeaseStore _store;
    private readonly IConnectionMultiplexer[] _connections;

    /// <summary>Creates a provider on one Redis deployment (a server, a primary with replicas, or a cluster).</summary>
    /// <param name="connection">The connection; the provider does not dispose it.</param>
    /// <param name="options">Key prefix and timeouts; <see cref="RedisLockProviderOptions.Default"/> when null.</param>
    /// <param name="logger">Where failures to renew or release are logged.</param>
    /// <param name="timeProvider">The clock of lease validity, renewal and waits; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid; the message names it and its value.</exception>
    public RedisLockProvider(IConnectionMultiplexer connection, RedisLockProviderOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
        : this([connection ?? throw new ArgumentNullException(nameof(connection))], nameof(connection), options, logger, timeProvider)
    {
    }

    /// <summary>
    /// Creates a provider on several independent Redis primaries (not replicas of each other) with the Redlock
    /// algorithm: a lease is granted when a majority (N/2+1) granted it within its TTL less the time spent and a
    /// clock drift margin, and is given back on every primary when the majority was not reached.
    /// </summary>
    /// <param name="independentMasters">One connection per primary; the provider does not dispose them.</param>
    /// <param name="options">Key prefix and timeouts; <see cref="RedisLockProviderOptions.Default"/> when null.</param>
    /// <param name="logger">Where failures to renew or release are logged.</param>
    /// <param name="timeProvider">The clock of lease validity, renewal and waits; <see cref="TimeProvider.System"/> when null.</param>
    /// <exception cref="ArgumentException">The list is empty, holds null, or holds one connection twice; or an option is invalid.</exception>
    public RedisLockProvider(IReadOnlyList<IConnectionMultiplexer> independentMasters, RedisLockProviderOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
        : this(independentMasters, nameof(independentMasters), options, logger, timeProvider)
    {
    }

    private RedisLockProvider(IReadOnlyList<IConnectionMultiplexer> connections, string parameterName, RedisLockProviderOptions? options, ILogger? logger, TimeProvider? timeProvider)
        : base("redis", logger, timeProvider)
    {
        ArgumentNullException.ThrowIfNull(connections, parameterName);
        if (connections.Count == 0)
        {
            throw new ArgumentException("At least one Redis connection is needed; the list was empty.", parameterName);
        }

        for (var i = 0; i < connections.Count; i++)
        {
            _ = connections[i] ?? throw new ArgumentException($"Connection {i} of {connections.Count} is null.", parameterName);
            for (var j = 0; j < i; j++)
            {
                if (ReferenceEquals(connections[j], connections[i]))
                {
                    throw new ArgumentException($"Connections {j} and {i} are the same object; Redlock needs independent primaries.", parameterName);
                }
            }
        }

        Options = (options ?? RedisLockProviderOptions.Default).Validated();
        _connections = [.. connections];
        logger ??= NullLogger.Instance;
        _store = connections.Count == 1
            ? new RedisPrimaryLeases(this, connections[0], Options, TimeProvider, logger)
            : new RedlockLeases(this, connections, Options, TimeProvider, logger);
    }

    /// <summary>How many primaries must answer for a lease: all of one, or a majority of independent ones.</summary>
    private int Quorum => _connections.Length / 2 + 1;

    /// <summary>The options in use.</summary>
    public RedisLockProviderOptions Options { get; }

    /// <summary>How many acquire requests this provider sent (each one round trip, to every primary with Redlock).</summary>
    internal long AcquireAttempts => _store.AcquireAttempts;

    internal RedisKeyspace Keyspace => _store.Keyspace;

    /// <summary>The notices of the primary at <paramref name="index"/> (for tests).</summary>
    internal RedisKeyNotices Notices(int index = 0) => _store.Notices(index);

    /// <inheritdoc />
    protected override TimeSpan? StoreCallBound => null;

    /// <inheritdoc />
    protected override ValueTask<LeaseGrant?> AcquireInStoreAsync(LeaseRequest request, CancellationToken cancellationToken)
        => _store.AcquireAsync(request, cancellationToken);

    /// <inheritdoc />
    protected internal override ValueTask<bool> RenewInStoreAsync(LeaseIdentity lease, TimeSpan ttl, CancellationToken cancellationToken)
        => _store.RenewAsync(lease, ttl, cancellationToken);

    /// <inheritdoc />
    protected internal override ValueTask ReleaseInStoreAsync(LeaseIdentity lease, CancellationToken cancellationToken)
        => _store.ReleaseAsync(lease, cancellationToken);

    /// <summary>Counts a contended acquire (for the store types, which are not providers themselves).</summary>
    internal void Contended(string key) => RecordContention(key);

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
    }
}
