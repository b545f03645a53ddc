using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Locking.FaultTests.Harness;

/// <summary>
/// A worker or silo process started from this test assembly (<c>dotnet exec Locking.FaultTests.dll MODE ...</c>),
/// steered over stdin, heard over stdout, and paused, resumed or killed with real signals.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int SigStop = 19;
    private const int SigCont = 18;

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly StringBuilder _errors = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _waiting = [];

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Every stdout line so far is offered to this too (on the reader's thread).</summary>
    public event Action<ChildProcess, string>? LineReceived;

    public static ChildProcess Start(string name, string mode, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        info.ArgumentList.Add(mode);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name}.");
        var child = new ChildProcess(name, process);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._errors)
                {
                    child._errors.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> seen = [];
        lock (_lines)
        {
            _lines.Add(line);
            for (var i = _waiting.Count - 1; i >= 0; i--)
            {
                if (_waiting[i].Match(line))
                {
                    seen.Add(_waiting[i].Seen);
                    _waiting.RemoveAt(i);
                }
            }
        }

        foreach (var waiter in seen)
        {
            waiter.TrySetResult(line);
        }

        LineReceived?.Invoke(this, line);
    }

    /// <summary>
    /// The first stdout line (from line number <paramref name="from"/> on) that <paramref name="match"/> accepts. Fails
    /// with what the process wrote when it does not come within <paramref name="seconds"/>: a bound that only a real
    /// failure reaches, never a timing assumption.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, int from = 0, double seconds = 60)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            for (var i = from; i < _lines.Count; i++)
            {
                if (match(_lines[i]))
                {
                    return _lines[i];
                }
            }

            _waiting.Add((match, seen));
        }

        var exited = _process.WaitForExitAsync();
        var done = await Task.WhenAny(seen.Task, exited, Task.Delay(TimeSpan.FromSeconds(seconds)));
        if (done == seen.Task)
        {
            return await seen.Task;
        }

        if (done == exited && seen.Task.IsCompleted)
        {
            return await seen.Task;
        }

        throw new TimeoutException(
            $"{Name} did not say {what} within {seconds} s{(done == exited ? $" (it exited with code {_process.ExitCode})" : "")}. " +
            $"stdout (last lines): {string.Join(" | ", LastLines(20))}; stderr: {Errors}");
    }

    /// <summary>How many stdout lines the process wrote so far (a starting point for <see cref="WaitForLineAsync"/>).</summary>
    public int LineCount
    {
        get
        {
            lock (_lines)
            {
                return _lines.Count;
            }
        }
    }

    private IEnumerable<string> LastLines(int count)
    {
        lock (_lines)
        {
            return _lines.Skip(Math.Max(0, _lines.Count - count)).ToArray();
        }
    }

    public string Errors
    {
        get
        {
            lock (_errors)
            {
                return _errors.ToString();
            }
        }
    }

    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>SIGSTOP: the whole process stops at once, its timers and renewals with it.</summary>
    public void Pause() => Signal(SigStop);

    /// <summary>SIGCONT.</summary>
    public void Resume() => Signal(SigCont);

    private void Signal(int signal)
    {
        if (SendSignal(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"Could not send signal {signal} to {Name} (pid {_process.Id}): errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>SIGKILL, as a crash would; returns when the process is gone.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.WaitForExit();
    }

    /// <summary>Waits for the process to end by itself; kills it and fails when it does not within <paramref name="seconds"/>.</summary>
    public async Task<int> WaitForExitAsync(double seconds = 60)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Name} did not exit within {seconds} s; killed. stderr: {Errors}");
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // A stopped process must be resumed to die of anything but SIGKILL; SIGKILL works either way.
            _ = SendSignal(_process.Id, SigCont);
            Kill();
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
