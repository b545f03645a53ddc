using System.Diagnostics;
using Locking.LoadTest.Libraries;
using Locking.LoadTest.Measurement;

namespace Locking.LoadTest.Cases;

/// <summary>
/// <c>contenders</c> tasks loop on ONE key: acquire (waiting up to 5 s), release at once, acquire again. Measures
/// how often the lock passes to a different holder, how long a waiter waits at worst, and whether anyone starves.
/// With separate connections each contender has its own library instance, as separate processes would.
/// </summary>
internal sealed class HandoffCase(string name, int contenders, bool separateConnections) : LoadCase
{
    private const string Key = "orders/hot";
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(5);

    public override string Name => name;

    public override string Description =>
        $"{contenders} contenders on one key, holding ~0 ms, {(separateConnections ? "each on its own connection and library instance" : "sharing one library instance")}; " +
        "an op is an acquisition, latency is the wait for it";

    private sealed class Shared
    {
        public int Inside;
        public int LastHolder = -1;
        public long Violations;
    }

    private sealed class Contender
    {
        public LatencyHistogram Wait { get; } = new();

        public long Acquired;
        public long Handoffs;
        public long NotAcquired;
        public long Errors;
        public string? FirstError;
    }

    public override async Task<CaseResult> RunAsync<THandle>(LockLibrary<THandle> library, CaseContext context)
    {
        var instances = new List<LockLibrary<THandle>> { library };
        try
        {
            for (var i = 1; separateConnections && i < contenders; i++)
            {
                instances.Add(await context.ConnectAnotherAsync<THandle>());
            }

            foreach (var instance in instances)
            {
                instance.Configure(TimeSpan.FromSeconds(30), s_wait);
            }

            return await RunContendersAsync(instances, context);
        }
        finally
        {
            foreach (var instance in instances.Skip(1))
            {
                await instance.DisposeAsync();
            }
        }
    }

    private async Task<CaseResult> RunContendersAsync<THandle>(List<LockLibrary<THandle>> instances, CaseContext context)
        where THandle : class
    {
        var result = new CaseResult(Name, context.Kind.Name);
        var shared = new Shared();
        var phase = new Phase();
        using var stop = new CancellationTokenSource();
        var states = new Contender[contenders];
        var running = new Task[contenders];
        for (var i = 0; i < contenders; i++)
        {
            var id = i;
            var state = states[i] = new Contender();
            var instance = instances[i % instances.Count];
            running[i] = Task.Run(() => LoopAsync(instance, id, state, shared, phase, stop.Token));
        }

        await context.MeasureAsync(phase, stop, Task.WhenAll(running), result);
        result.PerContender = new long[contenders];
        for (var i = 0; i < contenders; i++)
        {
            var state = states[i];
            result.PerContender[i] = state.Acquired;
            result.Operations += state.Acquired;
            result.Handoffs += state.Handoffs;
            result.NotAcquired += state.NotAcquired;
            result.Errors += state.Errors;
            result.FirstError ??= state.FirstError;
            result.Latency.Add(state.Wait);
        }

        result.ExclusionViolations = Interlocked.Read(ref shared.Violations);
        return result;
    }

    private static async Task LoopAsync<THandle>(LockLibrary<THandle> library, int id, Contender state, Shared shared, Phase phase, CancellationToken stop)
        where THandle : class
    {
        while (!phase.Stopped)
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                var handle = await library.TryAcquireAsync(Key, stop);
                var acquired = Stopwatch.GetTimestamp();
                if (!library.IsAcquired(handle))
                {
                    if (handle is not null)
                    {
                        await library.DiscardAsync(handle);
                    }

                    if (phase.Measuring)
                    {
                        state.NotAcquired++;
                    }

                    continue;
                }

                if (Interlocked.Increment(ref shared.Inside) != 1)
                {
                    Interlocked.Increment(ref shared.Violations);
                }

                var previous = Interlocked.Exchange(ref shared.LastHolder, id);
                if (phase.Measuring)
                {
                    state.Wait.RecordTicks(acquired - started);
                    state.Acquired++;
                    if (previous != id && previous >= 0)
                    {
                        state.Handoffs++;
                    }
                }

                Interlocked.Decrement(ref shared.Inside);
                await library.ReleaseAsync(Key, handle!);
            }
            catch (Exception ex) when (!IsStop(ex, stop))
            {
                state.Errors++;
                state.FirstError ??= ex.Message;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
