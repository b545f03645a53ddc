using System.Diagnostics;
using System.Globalization;

namespace Locking.FaultTests.Histories;

/// <summary>
/// One line of a history. <see cref="Timestamp"/> is <see cref="Stopwatch.GetTimestamp"/>, which on Linux reads
/// CLOCK_MONOTONIC: one clock for every process of the machine, never set back, so the histories of all processes
/// can be merged into one order of time.
/// </summary>
/// <param name="Timestamp">When, on the machine's monotonic clock (<see cref="Stopwatch.Frequency"/> ticks per second).</param>
/// <param name="Process">Who: a worker ("w3") or the nemesis.</param>
/// <param name="Kind">What: one of <see cref="EventKind"/>.</param>
/// <param name="Key">The lock key, or "-".</param>
/// <param name="Grant">The worker's own number of the grant the event belongs to (1, 2, ...), or 0.</param>
/// <param name="Token">The fencing token of that grant, or 0.</param>
/// <param name="Detail">Anything else (a write's sequence number, an error, a victim).</param>
public sealed record HistoryEvent(long Timestamp, string Process, string Kind, string Key, int Grant, long Token, string Detail)
{
    private const char Separator = '\t';

    public string Format() => string.Join(Separator,
        Timestamp.ToString(CultureInfo.InvariantCulture), Process, Kind, Key,
        Grant.ToString(CultureInfo.InvariantCulture), Token.ToString(CultureInfo.InvariantCulture),
        Detail.ReplaceLineEndings(" ").Replace(Separator, ' '));

    public static HistoryEvent Parse(string line)
    {
        var parts = line.Split(Separator, 7);
        if (parts.Length != 7)
        {
            throw new FormatException($"Not a history line: '{line}'.");
        }

        return new HistoryEvent(
            long.Parse(parts[0], CultureInfo.InvariantCulture), parts[1], parts[2], parts[3],
            int.Parse(parts[4], CultureInfo.InvariantCulture), long.Parse(parts[5], CultureInfo.InvariantCulture), parts[6]);
    }

    public override string ToString() => $"{Process} {Kind} {Key} grant {Grant} token {Token} {Detail}".TrimEnd();
}

/// <summary>The kinds of history events.</summary>
public static class EventKind
{
    // A worker's life.
    public const string Started = "started";          // the provider is ready
    public const string Acquire = "acquire";          // an acquire is about to be sent (the grant's request time)
    public const string Granted = "granted";          // AcquireAsync returned a lease (taken after it returned; Detail: ttl=ms)
    public const string Busy = "busy";                // still busy after the wait
    public const string Cancelled = "cancelled";      // the worker cancelled its wait
    public const string Unavailable = "unavailable";  // the store did not answer
    public const string Held = "held";                // IsLost said false: the library affirms the lease (taken before asking)
    public const string Gone = "gone";                // IsLost said true
    public const string Armed = "armed";              // the worker checked its lease and now waits for "go" before writing
    public const string Write = "write";              // a fenced write is sent (Detail: its sequence number)
    public const string Accepted = "accepted";        // the resource accepted it
    public const string Rejected = "rejected";        // the resource refused it: a higher token had written
    public const string Lost = "lost";                // LostToken fired
    public const string Release = "release";          // ReleaseAsync is about to be called (Detail: held or lost, asked just before)
    public const string Released = "released";        // ReleaseAsync returned (Detail: how long it took, ms)
    public const string Idle = "idle";                // the worker stopped acquiring and holds nothing
    public const string Calls = "calls";              // how many store calls the worker made (Detail), where it can count them
    public const string Disposed = "disposed";        // the provider was disposed
    public const string Log = "log";                  // the library logged something (Detail: level, event id, message)

    // The nemesis.
    public const string Fault = "fault";              // a fault was injected (Detail: what)
    public const string Healed = "healed";            // a fault was taken back (Detail: what)
}
