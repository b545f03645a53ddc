using StackExchange.Redis;

namespace Locking.Cluster;

/// <summary>
/// User code: restocking reads a stock level, works, and writes it back. Two processes doing that at once would
/// lose updates; [Exclusive] makes it safe across every client of the cluster.
/// </summary>
internal sealed partial class Inventory(ILockProvider locks, Warehouse warehouse)
{
    [Exclusive("stock/{sku}", Ttl = "15s", Wait = "60s")]
    public partial Task<long> RestockAsync(string sku, int units, CancellationToken cancellationToken);

    private async Task<long> RestockAsyncCore(string sku, int units, LockLease lease, CancellationToken cancellationToken)
    {
        // The fencing token goes with the write, so the store can refuse a holder whose lease has passed on.
        var level = await warehouse.ReadLevelAsync(sku);
        await Task.Delay(2, cancellationToken);
        await warehouse.WriteLevelAsync(sku, level, units, lease.FencingToken);
        return level + units;
    }
}

/// <summary>
/// The protected resource: stock levels in Redis. Each accepted write also counts the units it added, atomically,
/// so that a lost update (two holders reading the same level) shows as a level below that count.
/// </summary>
internal sealed class Warehouse(IConnectionMultiplexer redis, string run)
{
    private readonly IDatabase _db = redis.GetDatabase();

    private RedisKey Level(string sku) => $"sample:{run}:stock:{sku}";

    private RedisKey Fence(string sku) => $"sample:{run}:fence:{sku}";

    public static RedisKey Expected(string run) => $"sample:{run}:expected";

    public static RedisKey Violations(string run) => $"sample:{run}:violations";

    public async Task<long> ReadLevelAsync(string sku) => (long?)await _db.StringGetAsync(Level(sku)) ?? 0;

    /// <summary>Writes <paramref name="level"/> + <paramref name="units"/> unless a later fencing token already wrote (a stale holder's write is counted and dropped).</summary>
    public async Task WriteLevelAsync(string sku, long level, int units, long fencingToken)
    {
        var accepted = (bool)await _db.ScriptEvaluateAsync(
            """
            local fence = tonumber(redis.call('GET', KEYS[2]) or '0')
            if tonumber(ARGV[2]) <= fence then
              redis.call('INCR', KEYS[3])
              return 0
            end
            redis.call('SET', KEYS[2], ARGV[2])
            redis.call('SET', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]))
            redis.call('HINCRBY', KEYS[4], ARGV[4], ARGV[3])
            return 1
            """,
            [Level(sku), Fence(sku), Violations(run), Expected(run)],
            [level, fencingToken, units, sku]);
        if (!accepted)
        {
            Console.Error.WriteLine($"stale write refused for {sku} (fencing token {fencingToken})");
        }
    }

    public async Task<Dictionary<string, long>> LevelsAsync(IEnumerable<string> skus)
    {
        var levels = new Dictionary<string, long>();
        foreach (var sku in skus)
        {
            levels[sku] = await ReadLevelAsync(sku);
        }

        return levels;
    }
}
