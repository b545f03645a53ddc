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

    private readonly IDatabase _database;
    private readonly byte[] _releaseSha;
    private readonly ReleaseNotices _notices;

    public SetNxLibrary(ConnectionMultiplexer connection)
        : base(connection)
    {
        _database = connection.GetDatabase();
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        _releaseSha = server.ScriptLoad(ReleaseScript);
        _notices = new ReleaseNotices(connection, s_released, static notice => (string?)notice);
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
        => await _notices.WaitAsync(key, Wait, async () => await _database.StringSetAsync(key, owner, Ttl, When.NotExists), cancellationToken)
            ? owner
            : null;

    public override ValueTask ReleaseAsync(string key, byte[] owner)
        => new(_database.ScriptEvaluateAsync(_releaseSha, [key], [owner, s_releasedName]));

    public override bool IsLost(byte[] handle) => false;
}
