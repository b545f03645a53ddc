using Locking.LoadTest.Measurement;

namespace Locking.LoadTest;

/// <summary>What one case measured for one library.</summary>
internal sealed class CaseResult(string caseName, string library)
{
    public string Case { get; } = caseName;

    public string Library { get; } = library;

    /// <summary>Which round of the run this is (0-based): ratios are taken between results of one round.</summary>
    public int Round { get; set; }

    /// <summary>Operations completed in the measured window (a pair, or an acquisition in the handoff cases).</summary>
    public long Operations { get; set; }

    public TimeSpan Window { get; set; }

    public LatencyHistogram Latency { get; set; } = new();

    public long AllocatedBytes { get; set; }

    /// <summary>CPU time of this process and of redis-server in the measured window.</summary>
    public TimeSpan ClientCpu { get; set; }

    public TimeSpan ServerCpu { get; set; }

    /// <summary>Garbage collections in the window, "gen0/gen1/gen2".</summary>
    public string? Collections { get; set; }

    /// <summary>The managed heap right after the window: what the library keeps alive under this load.</summary>
    public long HeapBytesAfter { get; set; }

    /// <summary>The window's allocations by type, when asked for.</summary>
    public AllocationSampler? AllocationSampler { get; set; }

    /// <summary>Acquisitions by a different holder than the previous one (handoff cases).</summary>
    public long Handoffs { get; set; }

    /// <summary>Acquisitions that gave up (busy after the wait) inside the window.</summary>
    public long NotAcquired { get; set; }

    /// <summary>Operations that threw something other than the cancellation that ends a run.</summary>
    public long Errors { get; set; }

    public string? FirstError { get; set; }

    /// <summary>Times two holders were inside the lock at once: must stay 0.</summary>
    public long ExclusionViolations { get; set; }

    /// <summary>Commands sent per operation, counted on the client (uncontended case).</summary>
    public double? CommandsPerOperation { get; set; }

    /// <summary>Acquisitions of each contender in the window (handoff cases).</summary>
    public long[]? PerContender { get; set; }

    public HoldMeasurement? Hold { get; set; }

    /// <summary>The server's counters as the window opened: who was connected and subscribed.</summary>
    public ServerSnapshot? ServerAtStart { get; set; }

    /// <summary>INFO commandstats over the window: each command's calls and server time (commands inside scripts included).</summary>
    public IReadOnlyDictionary<string, CommandStat>? ServerCommands { get; set; }

    /// <summary>Workers that did not stop within the grace period after the window.</summary>
    public bool Hung { get; set; }

    public List<string> Notes { get; } = [];

    public double OperationsPerSecond => Window > TimeSpan.Zero ? Operations / Window.TotalSeconds : 0;

    public double HandoffsPerSecond => Window > TimeSpan.Zero ? Handoffs / Window.TotalSeconds : 0;

    public double AllocatedPerOperation => Hold is { } hold
        ? (double)AllocatedBytes / Math.Max(1, hold.Leases)
        : Operations > 0 ? (double)AllocatedBytes / Operations : 0;

    public bool Starved => PerContender is { } counts && counts.Any(count => count == 0);
}

/// <summary>What the hold case saw while the leases were held.</summary>
internal sealed record HoldMeasurement(
    int Leases,
    int Acquired,
    TimeSpan Held,
    long ManagedBytesPerLease,
    TimeSpan ProcessCpu,
    TimeSpan ServerCpu,
    long ServerCommands,
    int LostByLibrary,
    int TakenByOthers)
{
    public double ProcessCpuPercent => ProcessCpu / Held * 100;

    public double ServerCpuPercent => ServerCpu / Held * 100;

    public double ServerCommandsPerSecond => ServerCommands / Held.TotalSeconds;

    public int Lost => Math.Max(LostByLibrary, TakenByOthers) + (Leases - Acquired);
}
