using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

/// <summary>
/// A lock client in a process of its own (this test assembly started with <c>dotnet exec</c>), so that tests can queue
/// waiters from separate processes and connections, and kill or pause them with signals.
/// </summary>
/// <remarks>
/// <c>wait</c>: acquires the key (waiting), appends "name token" to the Redis list <c>{key}:order</c> while it holds
/// it, holds it <c>holdMs</c>, releases and exits 0; it exits 3 when the key stayed busy and 4 when the store could not
/// be reached. <c>hold</c>: acquires the key and holds it (renewing) until it is killed. Each prints one line per step
/// on standard output ("queued", "granted TOKEN", "released", "held TOKEN").
/// </remarks>
internal sealed class LockProcess : IDisposable
{
    public static readonly string[] Modes = ["wait", "hold"];

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _lineArrived = new(0);

    private LockProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_lines)
            {
                _lines.Add(e.Data);
            }

            _lineArrived.Release();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_lines)
                {
                    _lines.Add("stderr: " + e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    /// <summary>Starts a waiter: see the class remarks.</summary>
    public static LockProcess Wait(string endpoint, string key, string name, int ttlMs, int waitMs, int queuedWaiterTimeoutMs, int holdMs)
        => Start("wait", endpoint, key, name, Text(ttlMs), Text(waitMs), Text(queuedWaiterTimeoutMs), Text(holdMs));

    /// <summary>Starts a holder that renews its lease until it is killed.</summary>
    public static LockProcess Hold(string endpoint, string key, int ttlMs) => Start("hold", endpoint, key, Text(ttlMs));

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static LockProcess Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(typeof(LockProcess).Assembly.Location);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return new LockProcess(Process.Start(info) ?? throw new InvalidOperationException("Could not start the lock process."));
    }

    /// <summary>Waits (up to <paramref name="seconds"/>) for an output line that starts with <paramref name="prefix"/>; returns it.</summary>
    public async Task<string> LineAsync(string prefix, double seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            lock (_lines)
            {
                if (_lines.FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal)) is { } line)
                {
                    return line;
                }
            }

            var exited = _process.HasExited;
            if (DateTime.UtcNow >= deadline || (exited && !await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(500))))
            {
                throw new Xunit.Sdk.XunitException($"Process {_process.Id} printed no '{prefix}' line within {seconds} s{(exited ? " and exited" : "")}. Output: {Output}");
            }

            if (!exited)
            {
                await _lineArrived.WaitAsync(TimeSpan.FromSeconds(1));
            }
        }
    }

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join(" | ", _lines);
            }
        }
    }

    /// <summary>Waits (up to <paramref name="seconds"/>) for the process to exit; returns its exit code.</summary>
    public async Task<int> ExitAsync(double seconds = 90)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"Process {_process.Id} did not exit within {seconds} s. Output: {Output}");
        }

        return _process.ExitCode;
    }

    public void Kill() => Signal("KILL");

    public void Pause() => Signal("STOP");

    public void Resume() => Signal("CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {_process.Id}") { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Signal("CONT");
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }

    /// <summary>The process side: see the class remarks.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var endpoint = args[1];
        var key = args[2];
        var options = new ConfigurationOptions { EndPoints = { endpoint }, AbortOnConnectFail = false, ConnectTimeout = 2000, SyncTimeout = 2000, AsyncTimeout = 2000 };
        await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        if (args[0] == "hold")
        {
            await using var holder = new RedisLockProvider(connection);
            var held = await holder.AcquireAsync(key, new LockOptions { Ttl = TimeSpan.FromMilliseconds(int.Parse(args[3], CultureInfo.InvariantCulture)), Wait = TimeSpan.FromSeconds(30) });
            Console.WriteLine($"held {held.FencingToken}");
            await Task.Delay(Timeout.Infinite);
            return 0;
        }

        var name = args[3];
        var ttl = TimeSpan.FromMilliseconds(int.Parse(args[4], CultureInfo.InvariantCulture));
        var wait = TimeSpan.FromMilliseconds(int.Parse(args[5], CultureInfo.InvariantCulture));
        var queuedWaiterTimeout = TimeSpan.FromMilliseconds(int.Parse(args[6], CultureInfo.InvariantCulture));
        var hold = TimeSpan.FromMilliseconds(int.Parse(args[7], CultureInfo.InvariantCulture));
        await using var provider = new RedisLockProvider(connection, new RedisLockProviderOptions { QueuedWaiterTimeout = queuedWaiterTimeout });
        try
        {
            Console.WriteLine("waiting");
            await using var lease = await provider.AcquireAsync(key, new LockOptions { Ttl = ttl, Wait = wait });
            Console.WriteLine($"granted {lease.FencingToken}");
            await connection.GetDatabase().ListRightPushAsync(key + ":order", $"{name} {lease.FencingToken}");
            await Task.Delay(hold);
            await lease.ReleaseAsync();
            Console.WriteLine("released");
            return 0;
        }
        catch (LockNotAcquiredException)
        {
            Console.WriteLine("not-acquired");
            return 3;
        }
        catch (LockStoreUnavailableException ex)
        {
            Console.WriteLine($"unavailable {ex.InnerException?.GetType().Name}");
            return 4;
        }
    }
}
