namespace Locking;

/// <summary>
/// The one scheduler of a provider: renews every held lease every Ttl/3 and fires a lease's LostToken when its
/// local validity runs out. A priority queue behind one timer, so tens of thousands of held leases cost one
/// timer and one queue entry each, not a task loop each.
/// </summary>
internal sealed class LeaseMonitor : IDisposable
{
    private readonly TimeProvider _time;
    private readonly PriorityQueue<(ManagedLease Lease, int Version), long> _queue = new();
    private readonly Lock _gate = new();
    private readonly ITimer _timer;
    private readonly List<((ManagedLease Lease, int Version) Entry, long Due)> _kept = [];
    private long _armedFor = long.MaxValue;
    private int _compactAt = MinCompactAt;
    private bool _disposed;

    private const int MinCompactAt = 64;

    public LeaseMonitor(TimeProvider time)
    {
        _time = time;
        _timer = time.CreateTimer(static state => ((LeaseMonitor)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public TimeProvider Time => _time;

    /// <summary>Asks for <paramref name="lease"/>'s <c>OnDue</c> at <paramref name="dueTimestamp"/>; only the entry of its latest version counts.</summary>
    public void Schedule(ManagedLease lease, int version, long dueTimestamp)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _queue.Enqueue((lease, version), dueTimestamp);
            if (_queue.Count >= _compactAt)
            {
                Compact();
            }

            if (dueTimestamp < _armedFor)
            {
                Arm(dueTimestamp);
            }
        }
    }

    /// <summary>The leases that still have a current entry: the ones held.</summary>
    public List<ManagedLease> Snapshot()
    {
        lock (_gate)
        {
            var leases = new List<ManagedLease>();
            foreach (var ((lease, version), _) in _queue.UnorderedItems)
            {
                if (lease.IsScheduledAs(version))
                {
                    leases.Add(lease);
                }
            }

            return leases;
        }
    }

    /// <summary>
    /// Drops the entries of released, lost and rescheduled leases: without this a lease released long before its
    /// next renewal would stay in the queue (and in memory) until then. Amortized O(1) per schedule, no allocation.
    /// </summary>
    private void Compact()
    {
        _kept.Clear();
        foreach (var (entry, due) in _queue.UnorderedItems)
        {
            if (entry.Lease.IsScheduledAs(entry.Version))
            {
                _kept.Add((entry, due));
            }
        }

        _queue.Clear();
        _queue.EnqueueRange(_kept);
        _kept.Clear();
        _compactAt = Math.Max(MinCompactAt, 2 * _queue.Count);
        _armedFor = long.MaxValue;
        if (_queue.TryPeek(out _, out var next))
        {
            Arm(next);
        }
    }

    private void Arm(long dueTimestamp)
    {
        _armedFor = dueTimestamp;
        var delay = _time.GetElapsedTime(_time.GetTimestamp(), dueTimestamp);
        if (delay < TimeSpan.Zero)
        {
            delay = TimeSpan.Zero;
        }

        _timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        List<(ManagedLease Lease, int Version)>? due = null;
        long now;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            now = _time.GetTimestamp();
            _armedFor = long.MaxValue;
            while (_queue.TryPeek(out var entry, out var at) && at <= now)
            {
                _queue.Dequeue();
                if (entry.Lease.IsScheduledAs(entry.Version))
                {
                    (due ??= []).Add(entry);
                }
            }

            if (_queue.TryPeek(out _, out var next))
            {
                Arm(next);
            }
        }

        if (due is null)
        {
            return;
        }

        foreach (var (lease, version) in due)
        {
            lease.OnDue(version, now);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _queue.Clear();
        }

        _timer.Dispose();
    }
}
