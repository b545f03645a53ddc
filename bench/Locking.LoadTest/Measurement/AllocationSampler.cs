using System.Diagnostics.Tracing;

namespace Locking.LoadTest.Measurement;

/// <summary>
/// Samples what a measured window allocates, by type, from the runtime's own GC AllocationTick events (one event
/// per ~100 KB allocated, naming the type of the object that crossed the mark). Over a window of thousands of
/// operations this attributes the bytes per operation to types well enough to say what costs what.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Dictionary<string, long> _bytesByType = new(StringComparer.Ordinal);
    private volatile bool _recording;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs data)
    {
        if (!_recording || data.EventName is null || !data.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || data.Payload is null)
        {
            return;
        }

        var amount = Convert.ToInt64(data.Payload[data.PayloadNames!.IndexOf("AllocationAmount64")], System.Globalization.CultureInfo.InvariantCulture);
        var type = data.Payload[data.PayloadNames.IndexOf("TypeName")] as string ?? "?";
        lock (_bytesByType)
        {
            _bytesByType[type] = _bytesByType.GetValueOrDefault(type) + amount;
        }
    }

    public void Start() => _recording = true;

    public void Stop() => _recording = false;

    /// <summary>The types that took the most bytes, as estimated bytes per operation.</summary>
    public IEnumerable<string> Top(long operations, int count)
    {
        lock (_bytesByType)
        {
            return _bytesByType.OrderByDescending(pair => pair.Value).Take(count)
                .Select(pair => $"{pair.Value / (double)Math.Max(1, operations),7:0} B/op  {pair.Key}")
                .ToList();
        }
    }
}
