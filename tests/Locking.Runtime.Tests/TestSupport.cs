using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

internal static class TestSupport
{
    /// <summary>
    /// Runs <paramref name="acquire"/> in a flow of its own, as another caller would: without the execution context of
    /// the test, which may hold leases (a child of the holder's flow would get LockRecursionException).
    /// </summary>
    public static Task<T> Elsewhere<T>(Func<Task<T>> acquire)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(acquire);
        }
    }

    /// <summary>A task that completes when <paramref name="token"/> is cancelled.</summary>
    public static Task WhenCancelled(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => cancelled.TrySetResult());
        return cancelled.Task;
    }

    /// <summary>Waits (up to 30 s) until <paramref name="count"/> waiters, of any process, are queued in Redis for <paramref name="key"/>.</summary>
    public static async Task WaitUntilQueuedAsync(RedisLockProvider provider, IDatabase database, string key, int count)
    {
        var queue = RedisKeyspace.QueueKey(provider.Keyspace.LockKey(key));
        for (var i = 0; i < 3000 && await database.SortedSetLengthAsync(queue) < count; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(count, await database.SortedSetLengthAsync(queue));
    }

    /// <summary>How many waiters are queued in Redis for <paramref name="key"/>.</summary>
    public static Task<long> QueuedAsync(RedisLockProvider provider, IDatabase database, string key)
        => database.SortedSetLengthAsync(RedisKeyspace.QueueKey(provider.Keyspace.LockKey(key)));

    /// <summary>A task that completes once <paramref name="condition"/> holds, looked at every 10 ms.</summary>
    public static async Task Until(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(10);
        }
    }

    public static LockOptions Options(int ttlMs = 30_000, int waitMs = 5_000, bool renew = true)
        => new() { Ttl = TimeSpan.FromMilliseconds(ttlMs), Wait = TimeSpan.FromMilliseconds(waitMs), Renew = renew };

    /// <summary>Fails the test when <paramref name="task"/> does not complete within <paramref name="seconds"/>.</summary>
    public static async Task<T> Within<T>(this Task<T> task, double seconds, string what)
    {
        var finished = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(seconds)));
        Assert.True(finished == task, $"{what} did not happen within {seconds} s.");
        return await task;
    }

    public static async Task Within(this Task task, double seconds, string what)
    {
        var finished = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(seconds)));
        Assert.True(finished == task, $"{what} did not happen within {seconds} s.");
        await task;
    }
}

/// <summary>
/// A clock that moves only when told, while its timers run on real time: moving it past a deadline does not run the
/// timer callbacks that a <c>FakeTimeProvider</c> would run, as on a machine too busy to fire them.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    public TimeSpan Now { get; set; } = TimeSpan.FromHours(1);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Now.Ticks;
}

/// <summary>A logger that keeps what it was told and lets a test await an event id.</summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly ConcurrentQueue<(int Id, string Message)> _entries = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _awaited = new();

    public IReadOnlyCollection<(int Id, string Message)> Entries => _entries;

    public Task Next(int eventId)
        => _awaited.GetOrAdd(eventId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Reset(int eventId) => _awaited.TryRemove(eventId, out _);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _entries.Enqueue((eventId.Id, formatter(state, exception)));
        if (_awaited.TryGetValue(eventId.Id, out var waiting))
        {
            waiting.TrySetResult();
        }
    }
}
