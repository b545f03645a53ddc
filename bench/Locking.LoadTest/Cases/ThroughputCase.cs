using System.Diagnostics;
using Locking.LoadTest.Libraries;
using Locking.LoadTest.Measurement;
using StackExchange.Redis.Profiling;

namespace Locking.LoadTest.Cases;

/// <summary>
/// Acquire + release pairs as fast as they go: <c>tasks</c> tasks, each on its own key, so nobody ever waits.
/// With one task it is the uncontended latency case, and it also counts the commands a pair sends.
/// </summary>
internal sealed class ThroughputCase(string name, int tasks) : LoadCase
{
    private const int ProfiledPairs = 200;

    public override string Name => name;

    public override string Description => tasks == 1
        ? "1 task: acquire + release of one key, back to back (an op is a pair)"
        : $"{tasks} tasks on {tasks} distinct keys: acquire + release pairs (an op is a pair)";

    private sealed class Worker
    {
        public LatencyHistogram Latency { get; } = new();

        public long Operations;
        public long NotAcquired;
        public long Errors;
        public string? FirstError;
    }

    public override async Task<CaseResult> RunAsync<THandle>(LockLibrary<THandle> library, CaseContext context)
    {
        library.Configure(TimeSpan.FromSeconds(30), TimeSpan.Zero);
        var result = new CaseResult(Name, context.Kind.Name);
        var workers = new Worker[tasks];
        var phase = new Phase();
        using var stop = new CancellationTokenSource();
        var running = new Task[tasks];
        for (var i = 0; i < tasks; i++)
        {
            var worker = workers[i] = new Worker();
            var key = $"orders/{i}";
            running[i] = Task.Run(() => LoopAsync(library, key, worker, phase, stop.Token));
        }

        await context.MeasureAsync(phase, stop, Task.WhenAll(running), result);
        foreach (var worker in workers)
        {
            result.Operations += worker.Operations;
            result.NotAcquired += worker.NotAcquired;
            result.Errors += worker.Errors;
            result.FirstError ??= worker.FirstError;
            result.Latency.Add(worker.Latency);
        }

        if (tasks == 1 && !result.Hung)
        {
            await CountCommandsAsync(library, result);
        }

        return result;
    }

    private static async Task LoopAsync<THandle>(LockLibrary<THandle> library, string key, Worker worker, Phase phase, CancellationToken stop)
        where THandle : class
    {
        while (!phase.Stopped)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                var handle = await library.TryAcquireAsync(key, stop);
                if (!library.IsAcquired(handle))
                {
                    if (handle is not null)
                    {
                        await library.DiscardAsync(handle);
                    }

                    if (phase.Measuring)
                    {
                        worker.NotAcquired++;
                    }

                    continue;
                }

                await library.ReleaseAsync(key, handle!);
                var ended = Stopwatch.GetTimestamp();
                if (phase.Measuring)
                {
                    worker.Latency.RecordTicks(ended - started);
                    worker.Operations++;
                }
            }
            catch (Exception ex) when (!IsStop(ex, stop))
            {
                worker.Errors++;
                worker.FirstError ??= ex.Message;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Counts the commands a pair sends, on the client (StackExchange.Redis profiling), so the commands a Lua script
    /// runs inside the server are not counted as round trips. Outside the measured window: profiling allocates.
    /// </summary>
    private static async Task CountCommandsAsync<THandle>(LockLibrary<THandle> library, CaseResult result)
        where THandle : class
    {
        // An acquire that the end of the window cancelled may still be giving back its late grant (one release
        // command): let it land first, so that it is not counted as part of the profiled pairs.
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        var session = new ProfilingSession();
        var profiling = true;
        library.Connection.RegisterProfiler(() => Volatile.Read(ref profiling) ? session : null);
        var pairs = 0;
        try
        {
            for (var i = 0; i < ProfiledPairs; i++)
            {
                var handle = await library.TryAcquireAsync("orders/profiled", CancellationToken.None);
                if (library.IsAcquired(handle))
                {
                    await library.ReleaseAsync("orders/profiled", handle!);
                    pairs++;
                }
            }
        }
        finally
        {
            Volatile.Write(ref profiling, false);
        }

        var commands = session.FinishProfiling().ToList();
        if (pairs == 0)
        {
            return;
        }

        result.CommandsPerOperation = (double)commands.Count / pairs;
        var mix = commands.GroupBy(command => command.Command)
            .OrderByDescending(group => group.Count())
            .Select(group => $"{group.Key}={(double)group.Count() / pairs:0.##}");
        result.Notes.Add($"commands per pair: {string.Join(" ", mix)}");
    }
}
