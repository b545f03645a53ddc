// A cache framework's stampede guard: one caller per key rebuilds a missing entry while the others wait for it.
// The rebuild lock gets a fresh token per attempt, is taken with SET NX PX and released with compare-and-delete.
using System.Linq;

public sealed class StampedeGuardedCache(IConnectionMultiplexer redis, TimeSpan entryLifetime)
{
    private const string ReleaseIfOwner = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
            return redis.call('del', KEYS[1])
        end
        return 0
        """;

    private static readonly TimeSpan RebuildLease = TimeSpan.FromSeconds(15);
    private readonly IDatabase _db = redis.GetDatabase();

    private static RedisKey EntryKey(string name) => "cache:entry:" + name;

    private static RedisKey RebuildKey(string name) => "cache:rebuild:" + name;

    public async Task<string> GetAsync(string name, Func<CancellationToken, Task<string>> rebuild, CancellationToken ct)
    {
        while (true)
        {
            var cached = await _db.StringGetAsync(EntryKey(name));
            if (cached.HasValue)
            {
                return cached!;
            }

            var token = Guid.NewGuid().ToString("N");
            if (await _db.StringSetAsync(RebuildKey(name), token, RebuildLease, When.NotExists))
            {
                try
                {
                    var fresh = await rebuild(ct);
                    await _db.StringSetAsync(EntryKey(name), fresh, entryLifetime);
                    return fresh;
                }
                finally
                {
                    await _db.ScriptEvaluateAsync(ReleaseIfOwner, new[] { RebuildKey(name) }, new RedisValue[] { token });
                }
            }

            await Task.Delay(50, ct);
        }
    }

    public Task<bool> EvictAsync(string name) => _db.KeyDeleteAsync(EntryKey(name));

    public Task EvictManyAsync(IEnumerable<string> names) => _db.KeyDeleteAsync(names.Select(EntryKey).ToArray());
}
