using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// The notices one provider receives from one Redis deployment: a key's channel is subscribed only while this
/// provider has waiters for that key (and for a short linger after the last one left, so that a key contended in
/// bursts is not subscribed again each time), and each notice goes to the waiter it names.
/// </summary>
/// <remarks>
/// <para>
/// On Redis 7 and later the channels are sharded (SSUBSCRIBE / SPUBLISH): a notice stays on the shard of its key in a
/// Redis Cluster instead of crossing the cluster bus to every node. Older servers get classic pub/sub.
/// </para>
/// <para>
/// A grant notice can come before its waiter registered here (the release raced the waiter's first answer): it is
/// kept as unclaimed, and the waiter picks it up when it registers. Notices for waiters of other providers are
/// dropped at once.
/// </para>
/// </remarks>
internal sealed partial class RedisKeyNotices
{
    /// <summary>How long a grant for a waiter not registered yet, and the id of a waiter that gave up, are remembered.</summary>
    private static readonly TimeSpan s_keptFor = TimeSpan.FromMinutes(1);

    private readonly IConnectionMultiplexer _connection;
    private readonly ProcessId _process;
    private readonly TimeProvider _time;
    private readonly TimeSpan _linger;
    private readonly ILogger _logger;
    private readonly Action<RedisChannel, RedisValue> _onNotice;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, KeySubscription> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, KeyWaiter> _waiters = [];
    private readonly Dictionary<Guid, (long Token, long At)> _unclaimed = [];
    private readonly Dictionary<Guid, (string LockKey, long At)> _abandoned = [];
    private readonly Action<string, Guid> _releaseAbandonedGrant;
    private bool? _sharded;
    private bool _disposed;

    /// <param name="connection">The deployment.</param>
    /// <param name="process">The id with which the scripts mark this provider's waiters.</param>
    /// <param name="sharded">Sharded pub/sub or not; <see langword="null"/> to decide by the servers' version.</param>
    /// <param name="linger">How long a key's channel stays subscribed after its last waiter here left.</param>
    /// <param name="time">The clock of the linger and of the waiters' sleeps.</param>
    /// <param name="logger">Where a failed subscription is logged.</param>
    /// <param name="releaseAbandonedGrant">Releases a grant (lock key, waiter id) made to a waiter that gave up.</param>
    public RedisKeyNotices(IConnectionMultiplexer connection, ProcessId process, bool? sharded, TimeSpan linger, TimeProvider time, ILogger logger, Action<string, Guid> releaseAbandonedGrant)
    {
        _releaseAbandonedGrant = releaseAbandonedGrant;
        _connection = connection;
        _process = process;
        _sharded = sharded;
        _linger = linger;
        _time = time;
        _logger = logger;
        _onNotice = OnNotice;
    }

    /// <summary>How many waiters of this provider are registered for <paramref name="lockKey"/> (for tests).</summary>
    public int Count(string lockKey)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(lockKey, out var key) ? key.Waiters.Count : 0;
        }
    }

    /// <summary>Whether the notice channel of <paramref name="lockKey"/> is subscribed (for tests).</summary>
    public bool IsSubscribed(string lockKey)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(lockKey, out var key) && key.ConfirmedAt != 0;
        }
    }

    /// <summary>
    /// Registers a waiter for <paramref name="lockKey"/> and subscribes the key's channel if it is not yet: the
    /// waiter learns of grants made to <paramref name="waiterId"/> and of release notices for the key.
    /// </summary>
    public KeyWaiter Register(string lockKey, Guid waiterId, WaiterSignal? signal = null)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, typeof(RedisLockProvider));
            if (!_keys.TryGetValue(lockKey, out var key))
            {
                key = new KeySubscription(this, lockKey, Channel(lockKey));
                _keys.Add(lockKey, key);
                key.Subscribed = SubscribeAsync(key);
            }

            key.Linger?.Dispose();
            key.Linger = null;
            var waiter = new KeyWaiter(this, key, waiterId, signal ?? new WaiterSignal(_time));
            key.Waiters.Add(waiter);
            _waiters[waiterId] = waiter;
            if (_unclaimed.Remove(waiterId, out var grant))
            {
                waiter.Signal.Grant(grant.Token);
            }

            return waiter;
        }
    }

    /// <summary>Ends a registration; the key's channel is unsubscribed when no waiter comes back within the linger.</summary>
    public void Unregister(KeyWaiter waiter)
    {
        lock (_gate)
        {
            var key = waiter.Key;
            if (!key.Waiters.Remove(waiter))
            {
                return;
            }

            _waiters.Remove(waiter.Id);
            if (key.Waiters.Count == 0 && !_disposed && _keys.TryGetValue(key.LockKey, out var current) && current == key)
            {
                key.Linger = _time.CreateTimer(static state => ((KeySubscription)state!).LingerEnded(), key, _linger, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>
    /// Ends a registration whose waiter gave up (or queued again under a new id): a grant to its id that still comes
    /// is released at once.
    /// </summary>
    public void Abandon(KeyWaiter waiter)
    {
        Unregister(waiter);
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            Prune(_abandoned, static kept => kept.At, now);
            _abandoned[waiter.Id] = (waiter.Key.LockKey, now);
        }
    }

    /// <summary>A grant to a waiter of this provider: from a notice, or from the answer of this provider's own release.</summary>
    public void DeliverGrant(Guid waiterId, long token)
    {
        string? abandonedKey = null;
        lock (_gate)
        {
            if (_waiters.TryGetValue(waiterId, out var waiter))
            {
                waiter.Signal.Grant(token);
                return;
            }

            if (_abandoned.Remove(waiterId, out var abandoned))
            {
                abandonedKey = abandoned.LockKey;
            }
            else
            {
                // Its waiter has not registered yet (the grant raced the answer that queued it): it takes it when it does.
                var now = _time.GetTimestamp();
                Prune(_unclaimed, static kept => kept.At, now);
                _unclaimed[waiterId] = (token, now);
            }
        }

        if (abandonedKey is not null)
        {
            _releaseAbandonedGrant(abandonedKey, waiterId);
        }
    }

    /// <summary>Drops the entries kept longer than a minute, once there are enough of them to look.</summary>
    private void Prune<T>(Dictionary<Guid, T> kept, Func<T, long> keptAt, long now)
    {
        if (kept.Count < 64)
        {
            return;
        }

        foreach (var (id, entry) in kept)
        {
            if (_time.GetElapsedTime(keptAt(entry), now) > s_keptFor)
            {
                kept.Remove(id);
            }
        }
    }

    private void OnLingerEnded(KeySubscription key)
    {
        lock (_gate)
        {
            if (key.Waiters.Count != 0 || !_keys.TryGetValue(key.LockKey, out var current) || current != key)
            {
                return;
            }

            _keys.Remove(key.LockKey);
            key.Linger?.Dispose();
            key.Linger = null;
        }

        _ = UnsubscribeAsync(key);
    }

    private RedisChannel Channel(string lockKey)
    {
        _sharded ??= ServersHaveShardedPubSub();
        var name = RedisKeyspace.NoticeChannel(lockKey);
        return _sharded == true ? RedisChannel.Sharded(name) : RedisChannel.Literal(name);
    }

    /// <summary>Whether every server of the deployment has sharded pub/sub (Redis 7+), as the scripts decide for themselves.</summary>
    private bool ServersHaveShardedPubSub()
    {
        var any = false;
        foreach (var server in _connection.GetServers())
        {
            if (!server.IsConnected)
            {
                continue;
            }

            any = true;
            if (server.Version < new Version(7, 0))
            {
                return false;
            }
        }

        return any;
    }

    private async Task SubscribeAsync(KeySubscription key)
    {
        try
        {
            await _connection.GetSubscriber().SubscribeAsync(key.Channel, _onNotice).ConfigureAwait(false);
            Volatile.Write(ref key.ConfirmedAt, _time.GetTimestamp());
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Waiters still look again when the holder's TTL ends or their place is due for a refresh; the next
            // waiter of this key subscribes again.
            LogSubscribeFailed(_logger, ex, key.Channel.ToString());
            lock (_gate)
            {
                if (_keys.TryGetValue(key.LockKey, out var current) && current == key)
                {
                    _keys.Remove(key.LockKey);
                }
            }
        }
    }

    private async Task UnsubscribeAsync(KeySubscription key)
    {
        try
        {
            await _connection.GetSubscriber().UnsubscribeAsync(key.Channel, _onNotice).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            // The connection is gone or going: so is the subscription.
        }
    }

    private void OnNotice(RedisChannel channel, RedisValue message)
    {
        if (RedisLeaseScripts.ReadGrantNotice(message) is { } grant)
        {
            if (_process.Is(grant.Process.Span))
            {
                DeliverGrant(grant.Waiter, grant.Token);
            }

            return;
        }

        // A release notice (Redlock): every waiter of the key here looks again.
        var lockKey = RedisKeyspace.LockKeyOfChannel(channel.ToString());
        lock (_gate)
        {
            if (_keys.TryGetValue(lockKey, out var key))
            {
                foreach (var waiter in key.Waiters)
                {
                    waiter.Signal.Wake();
                }
            }
        }
    }

    /// <summary>Ends every wait with <see cref="ObjectDisposedException"/> and unsubscribes every channel (bounded by <paramref name="bound"/>).</summary>
    public async Task DisposeAsync(TimeSpan bound)
    {
        KeySubscription[] keys;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            keys = [.. _keys.Values];
            _keys.Clear();
            foreach (var key in keys)
            {
                key.Linger?.Dispose();
                foreach (var waiter in key.Waiters)
                {
                    waiter.Signal.Fail(new ObjectDisposedException(nameof(RedisLockProvider)));
                }
            }
        }

        try
        {
            await Task.WhenAll(keys.Select(UnsubscribeAsync)).WaitAsync(bound, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The server does not answer: the subscriptions end with the connection.
        }
    }

    [LoggerMessage(104, LogLevel.Warning, "Could not subscribe to the notice channel '{Channel}'; its waiters look again when the holder's TTL ends or their place is refreshed")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception error, string channel);

    internal sealed class KeySubscription(RedisKeyNotices notices, string lockKey, RedisChannel channel)
    {
        public string LockKey { get; } = lockKey;

        public RedisChannel Channel { get; } = channel;

        public List<KeyWaiter> Waiters { get; } = [];

        public Task Subscribed { get; set; } = Task.CompletedTask;

        /// <summary>The timestamp at which the subscription was confirmed; 0 until then.</summary>
        public long ConfirmedAt;

        public ITimer? Linger { get; set; }

        public void LingerEnded() => notices.OnLingerEnded(this);
    }

    /// <summary>One registration of a waiter for a key.</summary>
    internal sealed class KeyWaiter(RedisKeyNotices notices, KeySubscription key, Guid id, WaiterSignal signal)
    {
        public Guid Id { get; } = id;

        public KeySubscription Key { get; } = key;

        /// <summary>What wakes the waiter (with Redlock, one signal is registered on every primary).</summary>
        public WaiterSignal Signal { get; } = signal;

        /// <summary>
        /// Whether the key's channel was confirmed subscribed no later than <paramref name="timestamp"/>: a notice sent
        /// after a request at that time has reached this provider.
        /// </summary>
        public bool HeardSince(long timestamp)
        {
            var confirmed = Volatile.Read(ref Key.ConfirmedAt);
            return confirmed != 0 && confirmed <= timestamp;
        }

        /// <summary>Waits until the key's channel is subscribed (or that failed), at most until <paramref name="until"/>.</summary>
        public async ValueTask WhenSubscribedAsync(long until, CancellationToken cancellationToken)
        {
            var subscribed = Key.Subscribed;
            var time = notices._time;
            var left = until == long.MaxValue ? Timeout.InfiniteTimeSpan : time.GetElapsedTime(time.GetTimestamp(), until);
            if (subscribed.IsCompleted || (left != Timeout.InfiniteTimeSpan && left <= TimeSpan.Zero))
            {
                return;
            }

            try
            {
                await subscribed.WaitAsync(left, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // This waiter looks again by its timers meanwhile.
            }
        }
    }
}
