using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>
/// Wake-on-release for the setnx reference: a waiter tries, sleeps until a release notice for its key
/// (or a 50 ms safety re-check, since a holder that died publishes nothing) and tries again, racing the others:
/// no queue, no fairness.
/// </summary>
/// <param name="keyOfNotice">The key a notice names, or null for a notice of no interest.</param>
internal sealed class ReleaseNotices(ConnectionMultiplexer connection, RedisChannel channel, Func<RedisValue, string?> keyOfNotice)
{
    private static readonly TimeSpan s_recheck = TimeSpan.FromMilliseconds(50);

    private readonly ConcurrentDictionary<string, ReleaseSignal> _signals = new(StringComparer.Ordinal);
    private int _subscribed;

    /// <summary>Tries <paramref name="tryAcquire"/> until it succeeds or <paramref name="wait"/> runs out.</summary>
    public async ValueTask<bool> WaitAsync(string key, TimeSpan wait, Func<ValueTask<bool>> tryAcquire, CancellationToken cancellationToken)
    {
        var deadline = wait == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + wait;
        await EnsureSubscribedAsync();
        var signal = _signals.GetOrAdd(key, static _ => new ReleaseSignal());
        while (true)
        {
            // Take the signal's generation before trying, so a release between the try and the wait still wakes us.
            var released = signal.Next;
            if (await tryAcquire())
            {
                return true;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await released.WaitAsync(left < s_recheck ? left : s_recheck, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Look again now and then.
            }
        }
    }

    private async Task EnsureSubscribedAsync()
    {
        if (Volatile.Read(ref _subscribed) != 0)
        {
            return;
        }

        await connection.GetSubscriber().SubscribeAsync(channel, (_, message) =>
        {
            if (keyOfNotice(message) is { } key && _signals.TryGetValue(key, out var signal))
            {
                signal.Pulse();
            }
        });
        Volatile.Write(ref _subscribed, 1);
    }

    /// <summary>Wakes every waiter of one key: each release completes the current task and starts a new one.</summary>
    private sealed class ReleaseSignal
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Next => Volatile.Read(ref _next).Task;

        public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
