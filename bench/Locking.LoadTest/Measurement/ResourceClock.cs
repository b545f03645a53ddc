using System.Diagnostics;

namespace Locking.LoadTest.Measurement;

/// <summary>A reading of everything a measured window is charged for: wall time, allocations, CPU of both processes.</summary>
internal readonly record struct ResourceReading(long Timestamp, long AllocatedBytes, TimeSpan ProcessCpu, TimeSpan ServerCpu, long ServerCommands, int Gen0, int Gen1, int Gen2)
{
    /// <summary>
    /// Reads the clocks. <see cref="GC.GetTotalAllocatedBytes(bool)"/> with precise counts every thread, the client
    /// library's socket reader included, since a lock operation's cost is paid there too.
    /// </summary>
    public static ResourceReading Take(int serverProcessId, long serverCommands = 0)
    {
        return new ResourceReading(
            Stopwatch.GetTimestamp(),
            GC.GetTotalAllocatedBytes(precise: true),
            Process.GetCurrentProcess().TotalProcessorTime,
            ReadServerCpu(serverProcessId),
            serverCommands,
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2));
    }

    public TimeSpan ElapsedSince(ResourceReading start) => Stopwatch.GetElapsedTime(start.Timestamp, Timestamp);

    /// <summary>Garbage collections of each generation since <paramref name="start"/>.</summary>
    public string CollectionsSince(ResourceReading start) => $"{Gen0 - start.Gen0}/{Gen1 - start.Gen1}/{Gen2 - start.Gen2}";

    /// <summary>The 1-minute load average of the machine, which says how much the numbers beside it can be trusted.</summary>
    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>User plus system CPU time of another process, from /proc (Linux); zero where that is not available.</summary>
    private static TimeSpan ReadServerCpu(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields overall.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) +
                        long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on every Linux this runs on
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return TimeSpan.Zero;
        }
    }
}
