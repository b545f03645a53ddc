using Locking.FaultTests.Histories;
using Microsoft.Extensions.Logging;

namespace Locking.FaultTests.Processes;

/// <summary>
/// Puts what the library logs (every level: grants, renewals, releases, quorum misses, abandoned grants) into the
/// worker's history as "log" events, on the same clock as the rest: the evidence next to what the worker saw.
/// </summary>
internal sealed class HistoryLogger<T>(HistoryWriter history) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => history.Log(EventKind.Log, detail: $"{logLevel} {eventId.Id}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}");
}
