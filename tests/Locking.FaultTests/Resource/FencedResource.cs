using System.Globalization;
using StackExchange.Redis;

namespace Locking.FaultTests.Resource;

/// <summary>
/// The protected resource of the fault scenarios: a redis-server apart from the lock store, whose script accepts a
/// write only if its fencing token is not lower than the highest it accepted (Kleppmann's fencing), and logs every
/// write it accepted or refused in one list per key, in the order it saw them, so the checker reads what really
/// happened rather than what the workers believed.
/// </summary>
public sealed class FencedResource(IDatabase database)
{
    // KEYS[1] the highest token accepted, KEYS[2] the log; ARGV token, writer, grant, sequence number.
    // Returns 1 when accepted. Tokens are clock-seeded (about 1.7e15): exact in Lua's doubles up to 2^53.
    private const string WriteScript = """
        local token = tonumber(ARGV[1])
        local highest = tonumber(redis.call('GET', KEYS[1]) or '0')
        if token >= highest then
          redis.call('SET', KEYS[1], ARGV[1])
          redis.call('RPUSH', KEYS[2], 'A ' .. ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. string.format('%.0f', highest))
          return 1
        end
        redis.call('RPUSH', KEYS[2], 'R ' .. ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. string.format('%.0f', highest))
        return 0
        """;

    private static RedisKey HighestKey(string key) => $"resource:{key}:highest";

    private static RedisKey LogKey(string key) => $"resource:{key}:log";

    /// <summary>Writes under <paramref name="token"/>; whether the resource accepted it.</summary>
    public async Task<bool> WriteAsync(string key, long token, string writer, int grant, int sequence)
        => (long)await database.ScriptEvaluateAsync(
            WriteScript,
            [HighestKey(key), LogKey(key)],
            [token.ToString(CultureInfo.InvariantCulture), writer, grant, sequence]) == 1;

    /// <summary>The highest token the resource accepted for <paramref name="key"/> (0 before any write).</summary>
    public async Task<long> HighestAsync(string key) => (long?)await database.StringGetAsync(HighestKey(key)) ?? 0;

    /// <summary>Every write the resource saw for <paramref name="key"/>, in its order.</summary>
    public async Task<IReadOnlyList<ResourceWrite>> ReadLogAsync(string key)
        => (await database.ListRangeAsync(LogKey(key))).Select(entry => ResourceWrite.Parse(key, entry!)).ToArray();
}

/// <summary>A write as the resource saw it.</summary>
/// <param name="Key">The lock key the write was fenced by.</param>
/// <param name="Accepted">Whether the resource accepted it.</param>
/// <param name="Token">The writer's fencing token.</param>
/// <param name="Writer">The worker that sent it.</param>
/// <param name="Grant">The worker's number of the grant it wrote under.</param>
/// <param name="Sequence">The write's number within that grant.</param>
/// <param name="Highest">The highest token accepted before it.</param>
public sealed record ResourceWrite(string Key, bool Accepted, long Token, string Writer, int Grant, int Sequence, long Highest)
{
    public static ResourceWrite Parse(string key, string entry)
    {
        var parts = entry.Split(' ');
        return new ResourceWrite(
            key, parts[0] == "A", long.Parse(parts[1], CultureInfo.InvariantCulture), parts[2],
            int.Parse(parts[3], CultureInfo.InvariantCulture), int.Parse(parts[4], CultureInfo.InvariantCulture),
            long.Parse(parts[5], CultureInfo.InvariantCulture));
    }
}
