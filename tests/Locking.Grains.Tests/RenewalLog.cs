using Microsoft.Extensions.Logging;

namespace Locking.Grains.Tests;

/// <summary>A provider's log that tells when the provider has taken in a confirmed renewal (its "renewed" entry).</summary>
internal sealed class RenewalLog : ILogger<OrleansLockProvider>
{
    private readonly Lock _gate = new();
    private int _renewals;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next renewal the provider confirms from now on.</summary>
    public Task NextRenewal()
    {
        lock (_gate)
        {
            return _next.Task;
        }
    }

    public int Renewals => Volatile.Read(ref _renewals);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Name != "LogRenewed")
        {
            return;
        }

        TaskCompletionSource renewed;
        lock (_gate)
        {
            _renewals++;
            renewed = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        renewed.TrySetResult();
    }
}
