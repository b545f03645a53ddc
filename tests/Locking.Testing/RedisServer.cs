using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Locking.Testing;

/// <summary>
/// A real redis-server process on a free loopback port, owned by the test that started it, so the test can
/// kill, pause (SIGSTOP) and restart it. A machine without redis-server fails the test with a clear message.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;
    private readonly string _directory;
    private readonly bool _persistent;
    private readonly string[] _extraArguments;

    private RedisServer(int port, bool persistent, string[] extraArguments)
    {
        Port = port;
        _persistent = persistent;
        _extraArguments = extraArguments;
        _directory = Directory.CreateTempSubdirectory("locking-redis-").FullName;
    }

    /// <summary>The loopback port the server listens on; the same after <see cref="RestartAsync"/>.</summary>
    public int Port { get; }

    /// <summary>"127.0.0.1:port".</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The process id, for tests that signal it.</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException("redis-server is not running.");

    /// <summary>
    /// A StackExchange.Redis configuration for this server with short timeouts, so a stopped server shows up
    /// in seconds, not minutes.
    /// </summary>
    public ConfigurationOptions Configuration(int timeoutMs = 2000) => new()
    {
        EndPoints = { Endpoint },
        AbortOnConnectFail = false,
        ConnectTimeout = timeoutMs,
        SyncTimeout = timeoutMs,
        AsyncTimeout = timeoutMs,
        ConnectRetry = 1,
        ReconnectRetryPolicy = new LinearRetry(100),
    };

    /// <summary>Connects a new multiplexer to this server.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync(int timeoutMs = 2000) => ConnectionMultiplexer.ConnectAsync(Configuration(timeoutMs));

    /// <summary>Starts a redis-server on a free loopback port.</summary>
    /// <param name="persistent">Whether the server saves to disk (append-only file), so a restart keeps its data.</param>
    /// <param name="extraArguments">More redis-server arguments, such as <c>--cluster-enabled yes</c>.</param>
    public static async Task<RedisServer> StartAsync(bool persistent = false, params string[] extraArguments)
    {
        for (var attempt = 0; ; attempt++)
        {
            var server = new RedisServer(FreePort(), persistent, extraArguments);
            try
            {
                await server.StartProcessAsync();
                return server;
            }
            catch (PortTakenException) when (attempt < 5)
            {
                // Another process took the port between our probe and redis-server's bind: take another.
                await server.DisposeAsync();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRedisServer()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/local/bin"))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "redis-server was not found on PATH. The lock tests run against a real Redis server; install it " +
            "(Debian/Ubuntu: apt-get install -y redis-server) or run ./test.sh, which installs it.");
    }

    private async Task StartProcessAsync()
    {
        var args = new List<string>
        {
            "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--dir", _directory,
            "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning",
        };
        if (_persistent)
        {
            args.AddRange(["--appendonly", "yes", "--appendfsync", "always"]);
        }
        else
        {
            args.AddRange(["--appendonly", "no"]);
        }

        args.AddRange(_extraArguments);

        var info = new ProcessStartInfo(FindRedisServer(), args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var output = new System.Text.StringBuilder();
        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                string text;
                lock (output) { text = output.ToString(); }
                if (text.Contains("Address already in use", StringComparison.OrdinalIgnoreCase))
                {
                    throw new PortTakenException($"Port {Port} is taken: {text}");
                }

                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode}: {text}");
            }

            if (await PingsAsync())
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"redis-server on port {Port} did not answer PING within 10 s.");
    }

    /// <summary>Whether the server on <see cref="Port"/> answers and is our process (another one may hold the port).</summary>
    private async Task<bool> PingsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("INFO server\r\n"u8.ToArray());
            var text = new System.Text.StringBuilder();
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var processId = new System.Text.RegularExpressions.Regex(@"process_id:(\d+)\r\n");
            System.Text.RegularExpressions.Match match;
            while (!(match = processId.Match(text.ToString())).Success)
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    return false;
                }

                text.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
                if (text.ToString().StartsWith('-'))
                {
                    return false;
                }
            }

            if (int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) != _process?.Id)
            {
                throw new PortTakenException($"Port {Port} is answered by another redis-server (pid {match.Groups[1].Value}).");
            }

            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException || (ex is IOException and not PortTakenException))
        {
            return false;
        }
    }

    /// <summary>Pauses the server process (SIGSTOP): it keeps its port and data but answers nothing.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>Resumes a paused server (SIGCONT).</summary>
    public void Resume() => Signal("CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {ProcessId}") { UseShellExecute = false })!;
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {ProcessId} failed with exit code {kill.ExitCode}.");
        }
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Kills the server and starts it again on the same port; a non-persistent server comes back empty.</summary>
    public async Task RestartAsync()
    {
        Kill();
        await StartProcessAsync();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                Signal("CONT");
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        Kill();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Another process took the port chosen for a redis-server.</summary>
internal sealed class PortTakenException(string message) : IOException(message);
