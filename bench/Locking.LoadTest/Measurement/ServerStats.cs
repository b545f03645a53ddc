using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Locking.LoadTest.Measurement;

/// <summary>
/// Reads the server's command counter over a plain blocking socket of its own, so the reading works even while a
/// library under test has starved this process's thread pool (where an async client's answers would wait in line).
/// </summary>
internal static class ServerStats
{
    /// <summary>Commands the server processed since it started (the commands Lua scripts run included).</summary>
    /// <returns>The count, or -1 when the server did not answer within two seconds.</returns>
    public static long CommandsProcessed(int port)
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
            socket.Send("INFO stats\r\n"u8);
            var text = new StringBuilder();
            var buffer = new byte[8192];
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

            foreach (var line in text.ToString().Split("\r\n"))
            {
                if (line.StartsWith("total_commands_processed:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan("total_commands_processed:".Length), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or FormatException or IOException)
        {
        }

        return -1;
    }
}
