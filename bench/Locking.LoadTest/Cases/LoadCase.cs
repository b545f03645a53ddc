using Locking.LoadTest.Libraries;

namespace Locking.LoadTest.Cases;

/// <summary>One load shape, run the same way against every library.</summary>
internal abstract class LoadCase
{
    /// <summary>Every case, in the order they run within a round (uncontended-crowd next to uncontended, its reference).</summary>
    public static IReadOnlyList<string> Names { get; } = ["uncontended", "uncontended-crowd", "parallel", "handoff", "handoff-conns", "hold"];

    public static LoadCase Create(string name, LoadOptions options) => name switch
    {
        "uncontended" => new ThroughputCase(name, tasks: 1),
        "uncontended-crowd" => new CrowdCase(name, options.Crowd),
        "parallel" => new ThroughputCase(name, options.Tasks),
        "handoff" => new HandoffCase(name, options.Contenders, separateConnections: false),
        "handoff-conns" => new HandoffCase(name, options.Contenders, separateConnections: true),
        "hold" => new HoldCase(name, options.Leases, options.Tasks, options.HoldTtl),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown case."),
    };

    public abstract string Name { get; }

    /// <summary>One line saying what the case does, for the report.</summary>
    public abstract string Description { get; }

    public virtual bool AppliesTo(LibraryKind kind) => true;

    /// <summary>The case this one is judged against, run right beside it when both are asked for; null for none.</summary>
    public virtual string? ReferenceCase => null;

    public abstract Task<CaseResult> RunAsync<THandle>(LockLibrary<THandle> library, CaseContext context)
        where THandle : class;

    /// <summary>Records an exception of one operation; a cancellation after the window closed is how a run ends.</summary>
    protected static bool IsStop(Exception ex, CancellationToken stop) => ex is OperationCanceledException && stop.IsCancellationRequested;
}
