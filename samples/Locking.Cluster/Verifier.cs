using StackExchange.Redis;

namespace Locking.Cluster;

/// <summary>Checks after the clients finished that no update was lost: every SKU's level equals the units its accepted writes added.</summary>
internal static class Verifier
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var run = arguments.Required("run");
        await using var redis = await ConnectionMultiplexer.ConnectAsync(ClusterSettings.Redis(arguments.Redis));
        var db = redis.GetDatabase();
        var warehouse = new Warehouse(redis, run);
        var expected = (await db.HashGetAllAsync(Warehouse.Expected(run))).ToDictionary(e => (string)e.Name!, e => (long)e.Value);
        var levels = await warehouse.LevelsAsync(expected.Keys.Order(StringComparer.Ordinal));
        var violations = (long?)await db.StringGetAsync(Warehouse.Violations(run)) ?? 0;

        var ok = expected.Count > 0;
        foreach (var (sku, level) in levels)
        {
            var want = expected[sku];
            ok &= level == want;
            Console.WriteLine($"  {sku}: level {level}, accepted restocks {want} {(level == want ? "ok" : "LOST UPDATES")}");
        }

        Console.WriteLine($"  stale writes refused by fencing tokens: {violations}");
        Console.WriteLine(ok ? "verify: every restock counted, none overlapped" : "verify: FAILED");
        return ok ? 0 : 1;
    }
}
