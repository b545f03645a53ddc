using System.Collections.Concurrent;
using System.Security.Cryptography;
using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>
/// A reference below the floor: the fewest commands a lock with wake-on-release can send through
/// StackExchange.Redis, without the fencing token Locking draws. Acquire is one native SET NX PX with a 128-bit
/// random owner value; release is one owner-checked Lua script that deletes the key and publishes a release
/// notice. A waiter sleeps until a notice for its key (or a 50 ms safety re-check) and then races the others: no
/// queue, no fairness, no renewal, no fencing token. What Locking costs over this is the fencing script's
/// server time plus the library's own work.
/// </summary>
internal sealed class SetNxLibrary : LockLibrary<byte[]>
{
    private const string ReleaseScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
            redis.call('del', KEYS[1])
            redis.call('publish', ARGV[2], KEYS[1])
            return 1
        end
        return 0
        """;

    private const string ReleasedChannel = "setnx:released";
    private static readonly RedisChannel s_released = RedisChannel.Literal(ReleasedChannel);
    private static readonly RedisValue s_releasedName = ReleasedChannel;
    private static readonly TimeSpan s_recheck = TimeSpan.FromMilliseconds(50);

    private readonly IDatabase _database;
    private readonly byte[] _releaseSha;
    private readonly ConcurrentDictionary<string, ReleaseSignal> _signals = new(StringComparer.Ordinal);
    private int _subscribed;

    public SetNxLibrary(ConnectionMultiplexer connection)
        : base(connection)
    {
        _database = connection.GetDatabase();
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        _releaseSha = server.ScriptLoad(ReleaseScript);
    }

    public override ValueTask<byte[]?> TryAcquireAsync(string key, CancellationToken cancellationToken)
    {
        var owner = RandomNumberGenerator.GetBytes(16);
        return AcquireAsync(key, owner, cancellationToken);
    }

    private async ValueTask<byte[]?> AcquireAsync(string key, byte[] owner, CancellationToken cancellationToken)
    {
        if (await _database.StringSetAsync(key, owner, Ttl, When.NotExists))
        {
            return owner;
        }

        return Wait == TimeSpan.Zero ? null : await WaitAsync(key, owner, cancellationToken);
    }

    private async ValueTask<byte[]?> WaitAsync(string key, byte[] owner, CancellationToken cancellationToken)
    {
        var deadline = Wait == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + Wait;
        await EnsureSubscribedAsync();
        var signal = _signals.GetOrAdd(key, static _ => new ReleaseSignal());
        while (true)
        {
            // Take the signal's generation before trying, so a release between the try and the wait still wakes us.
            var released = signal.Next;
            if (await _database.StringSetAsync(key, owner, Ttl, When.NotExists))
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

        await Connection.GetSubscriber().SubscribeAsync(s_released, (_, key) =>
        {
            if (_signals.TryGetValue((string)key!, out var signal))
            {
                signal.Pulse();
            }
        });
        Volatile.Write(ref _subscribed, 1);
    }

    public override ValueTask ReleaseAsync(string key, byte[] owner)
        => new(_database.ScriptEvaluateAsync(_releaseSha, [key], [owner, s_releasedName]));

    public override bool IsLost(byte[] handle) => false;

    /// <summary>Wakes every waiter of one key: each release completes the current task and starts a new one.</summary>
    private sealed class ReleaseSignal
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Next => Volatile.Read(ref _next).Task;

        public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
