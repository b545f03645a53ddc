using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Locking.LoadTest.Measurement;

/// <summary>
/// Reads the server's counters over a plain blocking socket of its own, so the reading works even while a library
/// under test has starved this process's thread pool (where an async client's answers would wait in line).
/// </summary>
internal static class ServerStats
{
    /// <summary>Commands the server processed since it started (the commands Lua scripts run included).</summary>
    /// <returns>The count, or -1 when the server did not answer within two seconds.</returns>
    public static long CommandsProcessed(int port) => Read(port, "stats")?.CommandsProcessed ?? -1;

    /// <summary>INFO's sections, parsed; null when the server did not answer within two seconds.</summary>
    /// <param name="sections">"stats", or "everything" for the clients, stats and commandstats at once.</param>
    public static ServerSnapshot? Read(int port, string sections = "everything")
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            {
                ReceiveTimeout = 2000,
                SendTimeout = 2000,
                NoDelay = true,
            };
            socket.Connect(IPAddress.Loopback, port);
            socket.Send(Encoding.ASCII.GetBytes($"INFO {sections}\r\n"));
            var text = new StringBuilder();
            var buffer = new byte[16384];
            int? expected = null;
            while (expected is null || text.Length < expected)
            {
                var read = socket.Receive(buffer);
                if (read == 0)
                {
                    break;
                }

                text.Append(Encoding.ASCII.GetString(buffer, 0, read));
                if (expected is null && text.ToString() is var head && head.IndexOf("\r\n", StringComparison.Ordinal) is var end and > 0)
                {
                    // A bulk string: "$<length>\r\n<body>\r\n".
                    expected = end + 2 + int.Parse(head.AsSpan(1, end - 1), CultureInfo.InvariantCulture) + 2;
                }
            }

            return ServerSnapshot.Parse(text.ToString());
        }
        catch (Exception ex) when (ex is SocketException or FormatException or IOException)
        {
            return null;
        }
    }
}

/// <summary>What the server said about itself at one moment.</summary>
internal sealed record ServerSnapshot(
    long CommandsProcessed,
    long ConnectedClients,
    long PubsubChannels,
    long PubsubShardChannels,
    IReadOnlyDictionary<string, CommandStat> Commands)
{
    public static ServerSnapshot Parse(string info)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var commands = new Dictionary<string, CommandStat>(StringComparer.Ordinal);
        foreach (var line in info.Split("\r\n"))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0 || line.StartsWith('#'))
            {
                continue;
            }

            var name = line[..colon];
            var value = line[(colon + 1)..];
            if (name.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                // cmdstat_evalsha:calls=2,usec=30,usec_per_call=15.00,rejected_calls=0,failed_calls=0
                long calls = 0, usec = 0;
                foreach (var pair in value.Split(','))
                {
                    var parts = pair.Split('=', 2);
                    if (parts is ["calls", var c])
                    {
                        calls = long.Parse(c, CultureInfo.InvariantCulture);
                    }
                    else if (parts is ["usec", var u])
                    {
                        usec = long.Parse(u, CultureInfo.InvariantCulture);
                    }
                }

                commands[name["cmdstat_".Length..]] = new CommandStat(calls, usec);
            }
            else
            {
                fields[name] = value;
            }
        }

        long Number(string name) => fields.TryGetValue(name, out var text) && long.TryParse(text, CultureInfo.InvariantCulture, out var number) ? number : -1;
        return new ServerSnapshot(Number("total_commands_processed"), Number("connected_clients"), Number("pubsub_channels"), Number("pubsubshard_channels"), commands);
    }

    /// <summary>Calls and time of every command since <paramref name="start"/> (commands run by scripts included).</summary>
    public IReadOnlyDictionary<string, CommandStat> CommandsSince(ServerSnapshot start)
        => Commands.Select(entry => (entry.Key, Stat: entry.Value - (start.Commands.TryGetValue(entry.Key, out var before) ? before : default)))
            .Where(entry => entry.Stat.Calls > 0)
            .ToDictionary(entry => entry.Key, entry => entry.Stat, StringComparer.Ordinal);
}

/// <summary>One command's line of INFO commandstats: how often it ran and the server time it took (in the command itself).</summary>
internal readonly record struct CommandStat(long Calls, long Microseconds)
{
    public double MicrosecondsPerCall => Calls > 0 ? (double)Microseconds / Calls : 0;

    public static CommandStat operator -(CommandStat end, CommandStat start) => new(end.Calls - start.Calls, end.Microseconds - start.Microseconds);
}
