using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Locking.Observability.Tests;

/// <summary>Keeps every log entry of the "Locking" categories, to assert what an operator would read.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => [.. _entries];

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
            }
        }
    }
}
