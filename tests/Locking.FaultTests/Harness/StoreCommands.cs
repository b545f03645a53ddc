using System.Globalization;
using Locking.Testing;
using StackExchange.Redis;

namespace Locking.FaultTests.Harness;

/// <summary>
/// Counts the requests clients sent to one redis-server (INFO commandstats), across restarts: the counts are
/// collected before each kill and at the end. The library speaks to Redis only in Lua scripts, so its requests are
/// the EVAL, EVALSHA and SCRIPT calls; Redis also counts every command a script runs, which are listed apart, and
/// a connection's own chatter (handshake, heartbeats, subscriptions, the tie-breaker read) is left out.
/// </summary>
public sealed class StoreCommands(RedisServer server)
{
    private static readonly HashSet<string> s_chatter =
    [
        "info", "config", "ping", "echo", "client", "cluster", "hello", "command", "select", "auth", "role",
        "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "scan", "keys", "quit",
    ];

    private readonly Dictionary<string, long> _calls = [];

    public RedisServer Server => server;

    /// <summary>The requests: script calls.</summary>
    public long Requests => _calls.Where(c => IsRequest(c.Key)).Sum(c => c.Value);

    private static bool IsRequest(string command) => command.StartsWith("eval", StringComparison.Ordinal) || command.StartsWith("script", StringComparison.Ordinal);

    /// <summary>Adds the server's counts since the last collection and starts counting afresh.</summary>
    public async Task CollectAsync()
    {
        var configuration = server.Configuration(15_000);
        configuration.AllowAdmin = true;
        await using var admin = await ConnectionMultiplexer.ConnectAsync(configuration);
        var redis = admin.GetServer(server.Endpoint);
        var info = await redis.InfoAsync("commandstats");
        foreach (var entry in info.SelectMany(group => group))
        {
            // cmdstat_evalsha => calls=12,usec=...
            var command = entry.Key.StartsWith("cmdstat_", StringComparison.Ordinal) ? entry.Key["cmdstat_".Length..] : entry.Key;
            if (s_chatter.Contains(command.Split('|')[0]))
            {
                continue;
            }

            var calls = entry.Value.Split(',').First(part => part.StartsWith("calls=", StringComparison.Ordinal))["calls=".Length..];
            _calls[command] = _calls.GetValueOrDefault(command) + long.Parse(calls, CultureInfo.InvariantCulture);
        }

        await redis.ExecuteAsync("CONFIG", "RESETSTAT");
    }

    public double RequestsPerGrant(int grants) => grants == 0 ? 0 : Requests / (double)grants;

    /// <summary>"3.1 (evalsha 320, eval 2; in scripts: set 210, ...)": requests per grant, then the counts behind it.</summary>
    public string PerGrant(int grants)
        => RequestsPerGrant(grants).ToString("0.0", CultureInfo.InvariantCulture) + " (" + List(IsRequest) + "; in scripts: " + List(c => !IsRequest(c)) + ")";

    private string List(Func<string, bool> which) => string.Join(", ", _calls
        .Where(c => which(c.Key)).OrderByDescending(c => c.Value)
        .Select(c => $"{c.Key} {c.Value.ToString("N0", CultureInfo.InvariantCulture)}"));
}
