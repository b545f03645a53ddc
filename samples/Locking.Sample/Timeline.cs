using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Locking.Sample;

/// <summary>
/// The sample's console output: one line per event, stamped with the time since the start, and a progress
/// line that stays at the bottom of an interactive terminal.
/// </summary>
public sealed class Timeline
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _console = new();
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private string _progress = "";

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Section(string title)
    {
        lock (_console)
        {
            ClearProgress();
            Console.WriteLine();
            Console.WriteLine($"── {title} ──");
            DrawProgress();
        }
    }

    /// <summary>One timeline line: when, who, what.</summary>
    public void Event(string actor, string text)
    {
        lock (_console)
        {
            ClearProgress();
            Console.WriteLine($"  +{_clock.Elapsed.TotalSeconds,6:0.000}s  {actor,-14} {text}");
            DrawProgress();
        }
    }

    /// <summary>
    /// Replaces the progress line. Only a terminal shows it (it stays at the bottom, below the story); a redirected
    /// output gets the story alone, and the scenario's closing line says where it ended.
    /// </summary>
    public void Progress(string text)
    {
        lock (_console)
        {
            _progress = text;
            if (_interactive)
            {
                ClearProgress();
                DrawProgress();
            }
        }
    }

    /// <summary>Removes the progress line for good (the scenario it followed has ended).</summary>
    public void EndProgress()
    {
        lock (_console)
        {
            ClearProgress();
            _progress = "";
        }
    }

    public void Line(string text = "")
    {
        lock (_console)
        {
            ClearProgress();
            Console.WriteLine(text);
            DrawProgress();
        }
    }

    private void ClearProgress()
    {
        if (_interactive && _progress.Length > 0)
        {
            Console.Write("\r" + new string(' ', Math.Min(_progress.Length + 4, Math.Max(Console.WindowWidth - 1, 20))) + "\r");
        }
    }

    private void DrawProgress()
    {
        if (_interactive && _progress.Length > 0)
        {
            Console.Write("  » " + _progress);
        }
    }
}

/// <summary>
/// Puts the lock library's own renewal and loss log events on the timeline, so the reader sees the lease being
/// renewed in the background without the sample doing anything for it.
/// </summary>
public sealed class TimelineLoggerProvider(Timeline timeline) : ILoggerProvider
{
    private int _renewals;
    private int _losses;

    /// <summary>Renewals the library logged since the start.</summary>
    public int Renewals => Volatile.Read(ref _renewals);

    /// <summary>Leases the library logged as lost since the start.</summary>
    public int Losses => Volatile.Read(ref _losses);

    public ILogger CreateLogger(string categoryName) => new TimelineLogger(this, categoryName);

    public void Dispose()
    {
    }

    private void OnLibraryEvent(string message)
    {
        // The library's messages read "Renewed lock '...' (fencing token n)" and "Lost lock '...' ...".
        if (message.StartsWith("Renewed lock", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _renewals);
            timeline.Event("lease", "↻ r" + message[1..]);
        }
        else if (message.StartsWith("Lost lock", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _losses);
            timeline.Event("lease", "✗ l" + message[1..]);
        }
    }

    private sealed class TimelineLogger(TimelineLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => category.StartsWith("Locking", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.OnLibraryEvent(formatter(state, exception));
            }
        }
    }
}
