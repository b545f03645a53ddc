using Locking.LoadTest.Libraries;
using Locking.LoadTest.Measurement;
using Locking.Testing;
using StackExchange.Redis;

namespace Locking.LoadTest;

/// <summary>What a case needs besides the library: the options, the server, and the measured-window routine.</summary>
internal sealed class CaseContext(LoadOptions options, RedisServer server, ConfigurationOptions configuration, LibraryKind kind)
{
    /// <summary>How long workers get to stop after the window before the run counts as hung.</summary>
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(15);

    public LoadOptions Options { get; } = options;

    public RedisServer Server { get; } = server;

    public LibraryKind Kind { get; } = kind;

    /// <summary>Another instance of the library under test on its own connection (another "process").</summary>
    public async Task<LockLibrary<THandle>> ConnectAnotherAsync<THandle>(bool verifier = false)
        where THandle : class
        => (LockLibrary<THandle>)await Kind.ConnectAsync(configuration, verifier);

    /// <summary>Says on standard error where a long run is, so a stall shows where it stalls.</summary>
    public void Progress(string message) => Console.Error.WriteLine($"      [{DateTime.UtcNow:HH:mm:ss.f}] {Kind.Name}: {message}");

    public ResourceReading Read(long serverCommands = 0) => ResourceReading.Take(Server.ProcessId, serverCommands);

    /// <summary>
    /// Lets <paramref name="workers"/> warm up, opens the measured window for <see cref="LoadOptions.Duration"/>, then
    /// stops them (cancelling waits through <paramref name="stop"/>) and waits for them to end.
    /// </summary>
    public async Task<(ResourceReading Start, ResourceReading End)> MeasureAsync(Phase phase, CancellationTokenSource stop, Task workers, CaseResult result)
    {
        if (Options.Warmup > TimeSpan.Zero)
        {
            await Task.WhenAny(workers, Task.Delay(Options.Warmup));
        }

        using var sampler = Options.AllocationProfile ? new AllocationSampler() : null;
        var serverAtStart = ServerStats.Read(Server.Port);
        var start = Read();
        sampler?.Start();
        phase.StartMeasuring();
        await Task.WhenAny(workers, Task.Delay(Options.Duration));
        phase.StopAll();
        sampler?.Stop();
        var end = Read();
        var serverAtEnd = ServerStats.Read(Server.Port);
        await stop.CancelAsync();
        if (await Task.WhenAny(workers, Task.Delay(s_grace)) != workers)
        {
            result.Hung = true;
            result.Notes.Add($"workers still running {s_grace.TotalSeconds:0} s after the window closed");
        }
        else if (workers.IsFaulted)
        {
            result.Errors++;
            result.FirstError ??= workers.Exception!.GetBaseException().Message;
        }

        result.Window = end.ElapsedSince(start);
        result.AllocatedBytes = end.AllocatedBytes - start.AllocatedBytes;
        result.ClientCpu = end.ProcessCpu - start.ProcessCpu;
        result.ServerCpu = end.ServerCpu - start.ServerCpu;
        result.Collections = end.CollectionsSince(start);
        result.HeapBytesAfter = GC.GetTotalMemory(forceFullCollection: false);
        result.AllocationSampler = sampler;
        result.ServerAtStart = serverAtStart;
        result.ServerCommands = serverAtStart is not null ? serverAtEnd?.CommandsSince(serverAtStart) : null;

        return (start, end);
    }
}
