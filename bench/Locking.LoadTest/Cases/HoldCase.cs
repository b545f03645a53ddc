using System.Diagnostics;
using Locking.LoadTest.Libraries;
using Locking.LoadTest.Measurement;

namespace Locking.LoadTest.Cases;

/// <summary>
/// Acquires <c>leases</c> leases on distinct keys with auto-renewal and a short Ttl, holds them all for the run's
/// duration, and reports what holding costs (CPU of both processes, managed memory per lease, allocation, server
/// commands) and whether any was lost: by the library's own word, and by another instance managing to take the key.
/// Only for libraries that renew by themselves.
/// </summary>
internal sealed class HoldCase(string name, int leases, int parallelism, TimeSpan ttl) : LoadCase
{
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
        var histograms = await ForEachAsync(keys, parallelism, async (index, latency) =>
        {
            var started = Stopwatch.GetTimestamp();
            var handle = await library.TryAcquireAsync(keys[index], CancellationToken.None);
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
        var heldMemory = GC.GetTotalMemory(forceFullCollection: true);

        // The hold itself: nothing runs here but the libraries' renewal.
        var start = context.Read(await context.ServerCommandsAsync());
        await Task.Delay(context.Options.Duration);
        var end = context.Read(await context.ServerCommandsAsync());
        result.AllocatedBytes = end.AllocatedBytes - start.AllocatedBytes;

        var lostByLibrary = handles.Count(handle => handle is not null && library.IsLost(handle));
        var takenByOthers = await CountTakenByOthersAsync(context, keys, handles, result);

        await ForEachAsync(keys, parallelism, async (index, _) =>
        {
            if (handles[index] is { } handle)
            {
                await library.ReleaseAsync(keys[index], handle);
            }
        }, result);

        result.Hold = new HoldMeasurement(
            leases,
            acquired,
            end.ElapsedSince(start),
            (heldMemory - baseline) / Math.Max(1, acquired),
            end.ProcessCpu - start.ProcessCpu,
            end.ServerCpu - start.ServerCpu,
            end.ServerCommands - start.ServerCommands,
            lostByLibrary,
            takenByOthers);
        var hold = result.Hold;
        result.Notes.Add(
            $"held {hold.Acquired}/{hold.Leases} for {hold.Held.TotalSeconds:0.0} s: client CPU {hold.ProcessCpu.TotalMilliseconds:0} ms " +
            $"({hold.ProcessCpuPercent:0.0} % of a core), server CPU {hold.ServerCpuPercent:0.0} %, " +
            $"{hold.ServerCommandsPerSecond:0} server commands/s, managed memory {hold.ManagedBytesPerLease} B per lease, " +
            $"lost by the library's word {hold.LostByLibrary}, taken by another instance {hold.TakenByOthers}");
        return result;
    }

    /// <summary>Another instance tries every key once without waiting: each success is a lease this one lost.</summary>
    private async Task<int> CountTakenByOthersAsync<THandle>(CaseContext context, string[] keys, THandle?[] handles, CaseResult result)
        where THandle : class
    {
        await using var other = await context.ConnectAnotherAsync<THandle>(verifier: true);
        other.Configure(ttl, TimeSpan.Zero);
        var taken = 0;
        await ForEachAsync(keys, parallelism, async (index, _) =>
        {
            if (handles[index] is null)
            {
                return;
            }

            var handle = await other.TryAcquireAsync(keys[index], CancellationToken.None);
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

    /// <summary>Runs <paramref name="body"/> for every index on <paramref name="width"/> tasks, each with its own histogram.</summary>
    private static async Task<LatencyHistogram[]> ForEachAsync(string[] keys, int width, Func<int, LatencyHistogram, Task> body, CaseResult result)
    {
        var next = -1;
        var histograms = new LatencyHistogram[Math.Min(width, keys.Length)];
        var tasks = new Task[histograms.Length];
        for (var t = 0; t < tasks.Length; t++)
        {
            var histogram = histograms[t] = new LatencyHistogram();
            tasks[t] = Task.Run(async () =>
            {
                for (var index = Interlocked.Increment(ref next); index < keys.Length; index = Interlocked.Increment(ref next))
                {
                    try
                    {
                        await body(index, histogram);
                    }
                    catch (Exception ex)
                    {
                        lock (result)
                        {
                            result.Errors++;
                            result.FirstError ??= ex.Message;
                        }
                    }
                }
            });
        }

        await Task.WhenAll(tasks);
        return histograms;
    }
}
