using System.Diagnostics;
using Locking.LoadTest.Libraries;
using Locking.LoadTest.Measurement;

namespace Locking.LoadTest.Cases;

/// <summary>
/// Acquires <c>leases</c> leases on distinct keys with auto-renewal and a short Ttl, holds them all for the run's
/// duration, and reports what holding costs (CPU of both processes, managed memory per lease, allocation, server
/// commands) and whether any was lost: by the library's own word, and by another instance managing to take the key.
/// Only for libraries that renew by themselves. Every step has a time budget: a library that starves the thread
/// pool is reported as such, and the run goes on.
/// </summary>
internal sealed class HoldCase(string name, int leases, int parallelism, TimeSpan ttl) : LoadCase
{
    private static readonly TimeSpan s_stepBudget = TimeSpan.FromSeconds(60);

    public override string Name => name;

    public override string Description =>
        $"{leases:N0} leases on distinct keys held for the duration with auto-renew (Ttl {ttl.TotalSeconds:0.#} s); " +
        "ops/s and latency are of the acquire ramp, B/op is allocation per lease while held";

    public override bool AppliesTo(LibraryKind kind) => kind.AutoRenews;

    private static string KeyOf(int index) => $"tenants/{index}";

    public override async Task<CaseResult> RunAsync<THandle>(LockLibrary<THandle> library, CaseContext context)
    {
        library.Configure(ttl, TimeSpan.FromSeconds(5));
        var result = new CaseResult(Name, context.Kind.Name);
        var handles = new THandle?[leases];
        var keys = Enumerable.Range(0, leases).Select(KeyOf).ToArray();

        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var rampStarted = Stopwatch.GetTimestamp();
        var histograms = await ForEachAsync("acquire", keys, async (index, latency, cancellationToken) =>
        {
            var started = Stopwatch.GetTimestamp();
            var handle = await library.TryAcquireAsync(keys[index], cancellationToken);
            latency.RecordTicks(Stopwatch.GetTimestamp() - started);
            if (library.IsAcquired(handle))
            {
                handles[index] = handle;
            }
            else if (handle is not null)
            {
                await library.DiscardAsync(handle);
            }
        }, result);
        result.Window = Stopwatch.GetElapsedTime(rampStarted);
        foreach (var histogram in histograms)
        {
            result.Latency.Add(histogram);
        }

        var acquired = handles.Count(handle => handle is not null);
        result.Operations = acquired;
        context.Progress($"acquired {acquired} leases in {result.Window.TotalSeconds:0.0} s; holding");
        var heldMemory = GC.GetTotalMemory(forceFullCollection: true);

        // The hold runs on a thread of its own, not the thread pool: a library that starves the pool (blocking renewal
        // callbacks) must not stretch the window it is measured in, nor stall the harness.
        var (start, end, lostByLibrary, starved) = await Task.Factory.StartNew(
            () => HoldOnOwnThread(library, keys, handles, context, result), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        result.AllocatedBytes = end.AllocatedBytes - start.AllocatedBytes;

        var takenByOthers = -1;
        if (!starved)
        {
            context.Progress($"held; {lostByLibrary} lost by the library's word; checking with another instance");
            takenByOthers = await CountTakenByOthersAsync(context, keys, handles, result);
            context.Progress($"{takenByOthers} taken by another instance; releasing");
            await ForEachAsync("release", keys, async (index, _, _) =>
            {
                if (handles[index] is { } handle)
                {
                    await library.ReleaseAsync(keys[index], handle);
                }
            }, result);
        }

        result.Hold = new HoldMeasurement(
            leases,
            acquired,
            end.ElapsedSince(start),
            (heldMemory - baseline) / Math.Max(1, acquired),
            end.ProcessCpu - start.ProcessCpu,
            end.ServerCpu - start.ServerCpu,
            start.ServerCommands >= 0 && end.ServerCommands >= 0 ? end.ServerCommands - start.ServerCommands : -1,
            lostByLibrary,
            Math.Max(0, takenByOthers));
        var hold = result.Hold;
        result.Notes.Add(
            $"held {hold.Acquired}/{hold.Leases} for {hold.Held.TotalSeconds:0.0} s: client CPU {hold.ProcessCpu.TotalMilliseconds:0} ms " +
            $"({hold.ProcessCpuPercent:0.0} % of a core), server CPU {hold.ServerCpuPercent:0.0} %, " +
            $"{hold.ServerCommandsPerSecond:0} server commands/s, managed memory {hold.ManagedBytesPerLease:N0} B per lease, " +
            $"lost by the library's word {hold.LostByLibrary}, taken by another instance " +
            (takenByOthers < 0 ? "not checked (thread pool starved)" : hold.TakenByOthers.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return result;
    }

    /// <summary>
    /// Holds for the run's duration with blocking waits only, then reads what the hold cost. When the thread pool is
    /// starved by then, every handle is disposed from here, which in every library stops its renewal before it awaits
    /// anything; the releases then complete as the pool drains, and the check by another instance is skipped.
    /// </summary>
    private static (ResourceReading Start, ResourceReading End, int LostByLibrary, bool Starved) HoldOnOwnThread<THandle>(
        LockLibrary<THandle> library, string[] keys, THandle?[] handles, CaseContext context, CaseResult result)
        where THandle : class
    {
        var start = context.Read(ServerStats.CommandsProcessed(context.Server.Port));
        Thread.Sleep(context.Options.Duration);
        var end = context.Read(ServerStats.CommandsProcessed(context.Server.Port));
        var lost = handles.Count(handle => handle is not null && library.IsLost(handle));
        var queued = ThreadPool.PendingWorkItemCount;
        var starved = queued > 1000;
        if (starved)
        {
            result.Hung = true;
            result.Notes.Add($"thread pool starved at the end of the hold: {queued:N0} work items queued on {ThreadPool.ThreadCount} threads");
            context.Progress($"thread pool starved ({queued:N0} queued); disposing every handle from a dedicated thread");
            for (var i = 0; i < handles.Length; i++)
            {
                if (handles[i] is { } handle)
                {
                    _ = library.ReleaseAsync(keys[i], handle).AsTask();
                }
            }
        }

        return (start, end, lost, starved);
    }

    /// <summary>Another instance tries every key once without waiting: each success is a lease this one lost.</summary>
    private async Task<int> CountTakenByOthersAsync<THandle>(CaseContext context, string[] keys, THandle?[] handles, CaseResult result)
        where THandle : class
    {
        await using var other = await context.ConnectAnotherAsync<THandle>(verifier: true);
        other.Configure(ttl, TimeSpan.Zero);
        var taken = 0;
        await ForEachAsync("check", keys, async (index, _, cancellationToken) =>
        {
            if (handles[index] is null)
            {
                return;
            }

            var handle = await other.TryAcquireAsync(keys[index], cancellationToken);
            if (other.IsAcquired(handle))
            {
                Interlocked.Increment(ref taken);
                await other.ReleaseAsync(keys[index], handle!);
            }
            else if (handle is not null)
            {
                await other.DiscardAsync(handle);
            }
        }, result);
        return taken;
    }

    /// <summary>
    /// Runs <paramref name="body"/> for every index on <c>parallelism</c> tasks, each with its own histogram, within
    /// the step budget: past it, no index is started any more, the token is cancelled, and the step is noted as cut short.
    /// </summary>
    private async Task<LatencyHistogram[]> ForEachAsync(
        string step, string[] keys, Func<int, LatencyHistogram, CancellationToken, Task> body, CaseResult result)
    {
        using var budget = new CancellationTokenSource(s_stepBudget);
        var next = -1;
        var done = 0;
        var histograms = new LatencyHistogram[Math.Min(parallelism, keys.Length)];
        var tasks = new Task[histograms.Length];
        for (var t = 0; t < tasks.Length; t++)
        {
            var histogram = histograms[t] = new LatencyHistogram();
            tasks[t] = Task.Run(async () =>
            {
                for (var index = Interlocked.Increment(ref next);
                     index < keys.Length && !budget.IsCancellationRequested;
                     index = Interlocked.Increment(ref next))
                {
                    try
                    {
                        await body(index, histogram, budget.Token);
                        Interlocked.Increment(ref done);
                    }
                    catch (Exception ex)
                    {
                        lock (result)
                        {
                            result.Errors++;
                            result.FirstError ??= $"{step}: {ex.GetBaseException().Message}";
                        }
                    }
                }
            });
        }

        var all = Task.WhenAll(tasks);
        if (await Task.WhenAny(all, Task.Delay(s_stepBudget + TimeSpan.FromSeconds(10))) != all || budget.IsCancellationRequested)
        {
            result.Hung = true;
            result.Notes.Add($"{step} cut short after {s_stepBudget.TotalSeconds:0} s with {Volatile.Read(ref done)} of {keys.Length} done");
        }

        return histograms;
    }
}
