using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>
/// The floor: a raw StackExchange.Redis loop sending exactly Locking's store commands (the same acquire and release
/// scripts with the same keys and arguments, built by the same code), without anything else of the library: no
/// lease object, no validity clock, no renewal scheduler, no reentrancy check, no wait queue, no telemetry. A waiter
/// sleeps until a release notice for its key (or a 50 ms safety re-check) and then races the others.
/// Locking's ratio to this is what its own work costs on top of the commands it must send.
/// </summary>
internal sealed class FloorLibrary : LockLibrary<byte[]>
{
    private static readonly TimeSpan s_recheck = TimeSpan.FromMilliseconds(50);

    private readonly IDatabase _database;
    private readonly RedisKeyspace _keyspace = new(RedisLockProviderOptions.Default.KeyPrefix);
    private readonly long _counterRetentionMs = (long)RedisLockProviderOptions.Default.FencingCounterRetention.TotalMilliseconds;
    private readonly ConcurrentDictionary<string, ReleaseSignal> _signals = new(StringComparer.Ordinal);
    private long _ttlMs;
    private int _subscribed;

    public FloorLibrary(ConnectionMultiplexer connection)
        : base(connection)
    {
        _database = connection.GetDatabase();
    }

    protected override void OnConfigured() => _ttlMs = (long)Ttl.TotalMilliseconds;

    public override ValueTask<byte[]?> TryAcquireAsync(string key, CancellationToken cancellationToken)
        => AcquireAsync(_keyspace.LockKey(key), RandomNumberGenerator.GetBytes(16), cancellationToken);

    private async ValueTask<byte[]?> AcquireAsync(string lockKey, byte[] owner, CancellationToken cancellationToken)
    {
        if ((await RedisLeaseScripts.AcquireAsync(_database, lockKey, owner, _ttlMs, _counterRetentionMs)).Granted)
        {
            return owner;
        }

        return Wait == TimeSpan.Zero ? null : await WaitAsync(lockKey, owner, cancellationToken);
    }

    private async ValueTask<byte[]?> WaitAsync(string lockKey, byte[] owner, CancellationToken cancellationToken)
    {
        var deadline = Wait == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + Wait;
        await EnsureSubscribedAsync();
        var signal = _signals.GetOrAdd(lockKey, static _ => new ReleaseSignal());
        while (true)
        {
            // Take the signal's generation before trying, so a release between the try and the wait still wakes us.
            var released = signal.Next;
            if ((await RedisLeaseScripts.AcquireAsync(_database, lockKey, owner, _ttlMs, _counterRetentionMs)).Granted)
            {
                return owner;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            try
            {
                await released.WaitAsync(left < s_recheck ? left : s_recheck, cancellationToken);
            }
            catch (TimeoutException)
            {
                // A holder that died releases nothing: re-check now and then.
            }
        }
    }

    private async Task EnsureSubscribedAsync()
    {
        if (Volatile.Read(ref _subscribed) != 0)
        {
            return;
        }

        // The notice is the released owner (16 bytes) followed by the lock key.
        await Connection.GetSubscriber().SubscribeAsync(_keyspace.ReleaseChannel, (_, message) =>
        {
            var bytes = (byte[])message!;
            if (bytes.Length > 16 && _signals.TryGetValue(Encoding.UTF8.GetString(bytes, 16, bytes.Length - 16), out var signal))
            {
                signal.Pulse();
            }
        });
        Volatile.Write(ref _subscribed, 1);
    }

    public override async ValueTask ReleaseAsync(string key, byte[] owner)
        => await RedisLeaseScripts.ReleaseAsync(_database, _keyspace.LockKey(key), owner, _keyspace.ReleaseChannelName);

    public override bool IsLost(byte[] handle) => false;

    /// <summary>Wakes every waiter of one key: each release completes the current task and starts a new one.</summary>
    private sealed class ReleaseSignal
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Next => Volatile.Read(ref _next).Task;

        public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
