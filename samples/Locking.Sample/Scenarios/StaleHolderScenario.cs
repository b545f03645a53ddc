namespace Locking.Sample.Scenarios;

/// <summary>
/// A holder stalls (think of a long GC pause) past its TTL with renewal off. Its lease expires, the next holder
/// gets a higher fencing token and writes; when the stalled holder wakes up and writes with its old token, the
/// fenced store rejects it. The library also fires the stale holder's LostToken and ends its call with
/// LeaseLostException.
/// </summary>
public sealed class StaleHolderScenario(LedgerWriter writer, FencedLedger ledger, Timeline timeline)
{
    public const string EntryId = "invoice-42";

    public async Task RunAsync(Invariants invariants, CancellationToken cancellationToken)
    {
        timeline.Section($"3. a holder stalls past its TTL — [Exclusive(\"ledger/{{entryId}}\", Ttl = \"{LedgerWriter.Ttl.TotalMilliseconds:0}ms\", Renew = false)] + a fenced store");

        var staleHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var nextHolderWrote = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stale = Task.Run(async () =>
        {
            try
            {
                var stall = new Stall(LedgerWriter.Ttl * 3, Until: nextHolderWrote.Task);
                await writer.WriteEntryAsync(EntryId, new LedgerWrite("writer-a", "paid by A", staleHolds, stall), cancellationToken);
                return (Exception?)null;
            }
            catch (LeaseLostException ex)
            {
                timeline.Event("writer-a", $"call ended with LeaseLostException (fencing {ex.FencingToken})");
                return ex;
            }
        }, cancellationToken);

        await staleHolds.Task.WaitAsync(cancellationToken);
        timeline.Event("writer-b", "wants the same entry");
        try
        {
            await writer.WriteEntryAsync(EntryId, new LedgerWrite("writer-b", "paid by B", null, null), cancellationToken);
        }
        finally
        {
            nextHolderWrote.TrySetResult();
        }

        var staleError = await stale;

        var a = writer.Attempts.Single(w => w.Writer == "writer-a");
        var b = writer.Attempts.Single(w => w.Writer == "writer-b");
        invariants.Check("stale-holder", "the next holder got a higher fencing token", b.FencingToken > a.FencingToken,
            $"writer-a {a.FencingToken}, writer-b {b.FencingToken}");
        invariants.Check("stale-holder", "the fenced store rejected the stale write", !a.Accepted && b.Accepted && ledger.Read(EntryId) == "paid by B",
            $"writer-a {(a.Accepted ? "accepted" : "rejected")}, writer-b {(b.Accepted ? "accepted" : "rejected")}, entry = \"{ledger.Read(EntryId)}\"");
        invariants.Check("stale-holder", "the stale holder was told it lost the lease", a.SawLost && staleError is LeaseLostException,
            $"LostToken fired: {a.SawLost}; call ended with {staleError?.GetType().Name ?? "no exception"}");
    }
}

/// <summary>One write: who writes what, whom to tell once it holds the lease, and how it stalls before writing.</summary>
public sealed record LedgerWrite(string Writer, string Value, TaskCompletionSource? Holding, Stall? Stall);

/// <summary>
/// A pause of at least <paramref name="Length"/> that also lasts until <paramref name="Until"/> completes (at most
/// half a minute), so that on a slow machine the next holder has surely written before the stalled one wakes.
/// </summary>
public sealed record Stall(TimeSpan Length, Task Until);

/// <summary>What one writer saw: its fencing token, whether its write was accepted, whether it saw the loss.</summary>
public sealed record WriteAttempt(string Writer, long FencingToken, bool Accepted, bool SawLost);

/// <summary>Writes ledger entries under a lease without renewal, passing the fencing token to the store.</summary>
public sealed partial class LedgerWriter(ILockProvider locks, FencedLedger ledger, Timeline timeline)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromMilliseconds(600);
    private readonly List<WriteAttempt> _attempts = [];

    public IReadOnlyList<WriteAttempt> Attempts
    {
        get
        {
            lock (_attempts)
            {
                return [.. _attempts];
            }
        }
    }

    /// <summary>Writes the entry while holding "ledger/{entryId}" (no renewal: the lease ends after its TTL).</summary>
    [Exclusive("ledger/{entryId}", Ttl = "600ms", Wait = "10s", Renew = false)]
    public partial Task WriteEntryAsync(string entryId, LedgerWrite write, CancellationToken cancellationToken);

    private async Task WriteEntryAsyncCore(string entryId, LedgerWrite write, LockLease lease, CancellationToken cancellationToken)
    {
        timeline.Event(write.Writer, $"holds {lease.Key} (fencing {lease.FencingToken}), TTL {Ttl.TotalMilliseconds:0} ms, no renewal");
        write.Holding?.TrySetResult();
        if (write.Stall is { } stall)
        {
            timeline.Event(write.Writer, $"stalls for {stall.Length.TotalMilliseconds:0} ms or more (a GC pause, a stuck call) …");
            using var onLost = cancellationToken.Register(() => timeline.Event(write.Writer, "its LostToken fired: the lease ran out"));

            // A paused process does not look at its token: the stall deliberately ignores it.
            await Task.WhenAll(Task.Delay(stall.Length, CancellationToken.None), stall.Until.WaitAsync(TimeSpan.FromSeconds(30)));
            timeline.Event(write.Writer, $"wakes up and writes anyway with fencing {lease.FencingToken}");
        }

        var accepted = ledger.TryWrite(entryId, write.Value, lease.FencingToken, out var highest);
        timeline.Event(write.Writer, accepted
            ? $"write \"{write.Value}\" accepted by the fenced store (token {lease.FencingToken})"
            : $"write \"{write.Value}\" REJECTED: token {lease.FencingToken} < {highest} already seen");
        lock (_attempts)
        {
            _attempts.Add(new WriteAttempt(write.Writer, lease.FencingToken, accepted, lease.IsLost));
        }
    }
}

/// <summary>
/// A resource that takes fencing tokens: it remembers the highest token seen per entry and refuses writes
/// carrying a lower one. In a database this is a column compared in the UPDATE's WHERE clause.
/// </summary>
public sealed class FencedLedger
{
    private readonly Dictionary<string, (long Token, string Value)> _entries = [];
    private readonly Lock _gate = new();

    public bool TryWrite(string entryId, string value, long fencingToken, out long highestSeen)
    {
        lock (_gate)
        {
            highestSeen = _entries.TryGetValue(entryId, out var entry) ? entry.Token : long.MinValue;
            if (fencingToken < highestSeen)
            {
                return false;
            }

            _entries[entryId] = (fencingToken, value);
            highestSeen = fencingToken;
            return true;
        }
    }

    public string? Read(string entryId)
    {
        lock (_gate)
        {
            return _entries.TryGetValue(entryId, out var entry) ? entry.Value : null;
        }
    }
}
