using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Locking.Observability.Tests;

/// <summary>Keeps every log entry of the "Locking" categories, to assert what an operator would read.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();
    private readonly SemaphoreSlim _added = new(0);

    public IReadOnlyList<Entry> Entries => [.. _entries];

    /// <summary>
    /// Waits until an entry matching <paramref name="match"/> has been logged: some entries come from background work
    /// (a renewal or a release still in flight when the store died), after the event the test awaited.
    /// </summary>
    public async Task<Entry> WaitForAsync(Func<Entry, bool> match, TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        while (true)
        {
            if (_entries.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            try
            {
                await _added.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No matching log entry within {patience}; logged: {string.Join(" | ", _entries.Select(entry => $"{entry.Level} {entry.Message}"))}");
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public sealed record Entry(LogLevel Level, string Category, string Message, Exception? Exception);

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => category.StartsWith("Locking", StringComparison.Ordinal);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), exception));
                owner._added.Release();
            }
        }
    }
}
