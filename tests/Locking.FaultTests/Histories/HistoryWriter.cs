using System.Diagnostics;

namespace Locking.FaultTests.Histories;

/// <summary>
/// Appends events to a history file, one line each, flushed at once: a process killed with SIGKILL leaves every
/// event it logged before the kill.
/// </summary>
public sealed class HistoryWriter : IDisposable
{
    private readonly StreamWriter _file;
    private readonly string _process;
    private readonly Lock _lock = new();

    public HistoryWriter(string path, string process)
    {
        _process = process;
        _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    /// <summary>Logs an event at the moment of the call.</summary>
    public HistoryEvent Log(string kind, string key = "-", int grant = 0, long token = 0, string detail = "")
        => LogAt(Stopwatch.GetTimestamp(), kind, key, grant, token, detail);

    /// <summary>Logs an event at <paramref name="timestamp"/>, read before the action it records.</summary>
    public HistoryEvent LogAt(long timestamp, string kind, string key = "-", int grant = 0, long token = 0, string detail = "")
    {
        var entry = new HistoryEvent(timestamp, _process, kind, key, grant, token, detail);
        lock (_lock)
        {
            _file.WriteLine(entry.Format());
        }

        return entry;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file.Dispose();
        }
    }

    /// <summary>Reads a history file; a last line cut short by a kill is left out.</summary>
    public static IReadOnlyList<HistoryEvent> Read(string path)
    {
        var events = new List<HistoryEvent>();
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var text = reader.ReadToEnd();
        var lines = text.Split('\n');
        // Without a final newline the last line may be cut short.
        for (var i = 0; i < lines.Length - 1; i++)
        {
            if (lines[i].Length > 0)
            {
                events.Add(HistoryEvent.Parse(lines[i]));
            }
        }

        return events;
    }
}
