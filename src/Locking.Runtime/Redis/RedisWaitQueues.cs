namespace Locking;

/// <summary>
/// The local waiters of one provider, a FIFO queue per lock key. Only the head of a queue talks to Redis; the
/// others wait for their turn, so a process sends one acquire per release however many of its tasks wait, and
/// a new local acquirer never barges ahead of the ones already waiting.
/// </summary>
/// <remarks>
/// The head sleeps until a release notice for its key (pub/sub, or a release by this process) or until the
/// holder's TTL runs out, whichever comes first; there is no polling interval. When the head itself takes the
/// lease the queue remembers that owner, so the next head sleeps until that lease is released here (or would
/// have expired) without a pointless acquire, and a late notice of an older release does not wake it.
/// </remarks>
internal sealed class RedisWaitQueues
{
    private readonly Dictionary<string, KeyQueue> _queues = new(StringComparer.Ordinal);
    private readonly SpanKeyedLookup<KeyQueue> _bySpan;
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private int _waiting;
    private bool _disposed;

    public RedisWaitQueues(TimeProvider time)
    {
        _time = time;
        _bySpan = new(_queues);
    }

    /// <summary>Whether any task of this process waits for any key.</summary>
    public bool AnyWaiting => Volatile.Read(ref _waiting) != 0;

    /// <summary>Whether any task of this process waits for <paramref name="lockKey"/>; lock-free when nobody waits at all.</summary>
    public bool HasWaiters(string lockKey)
    {
        if (Volatile.Read(ref _waiting) == 0)
        {
            return false;
        }

        lock (_gate)
        {
            return _queues.ContainsKey(lockKey);
        }
    }

    /// <summary>How many tasks of this process wait for <paramref name="lockKey"/> (for tests).</summary>
    public int Count(string lockKey)
    {
        lock (_gate)
        {
            return _queues.TryGetValue(lockKey, out var queue) ? queue.Waiters.Count : 0;
        }
    }

    /// <summary>Puts a new waiter at the end of <paramref name="lockKey"/>'s queue.</summary>
    public Waiter Enqueue(string lockKey)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_queues.TryGetValue(lockKey, out var queue))
            {
                queue = new KeyQueue(lockKey);
                _queues.Add(lockKey, queue);
            }

            var waiter = new Waiter(this, queue);
            queue.Waiters.AddLast(waiter.Node);
            waiter.IsHead = queue.Waiters.First == waiter.Node;
            _waiting++;
            return waiter;
        }
    }

    /// <summary>
    /// Removes <paramref name="waiter"/> from its queue and wakes the next one. <paramref name="heldBy"/> is the owner
    /// when the waiter leaves because it took the lease, which then counts as held here until
    /// <paramref name="heldUntil"/> or its release.
    /// </summary>
    public void Leave(Waiter waiter, Guid? heldBy = null, long heldUntil = 0)
    {
        lock (_gate)
        {
            var queue = waiter.Queue;
            if (waiter.Node.List is null)
            {
                return;
            }

            var wasHead = queue.Waiters.First == waiter.Node;
            queue.Waiters.Remove(waiter.Node);
            _waiting--;
            if (heldBy is { } owner)
            {
                queue.LocalHolder = owner;
                queue.LocalHolderUntil = heldUntil;
            }

            if (queue.Waiters.First is { } next)
            {
                if (wasHead)
                {
                    next.Value.IsHead = true;
                    next.Value.Signal();
                }
            }
            else
            {
                _queues.Remove(queue.LockKey);
            }
        }
    }

    /// <summary>
    /// A lease on <paramref name="lockKey"/> owned by <paramref name="owner"/> was released (here or in another
    /// process): wakes the head of the key's queue, unless a lease this process took since is still held.
    /// </summary>
    public void Released(ReadOnlySpan<char> lockKey, Guid owner)
    {
        if (Volatile.Read(ref _waiting) == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (!_bySpan.TryGetValue(lockKey, out var queue))
            {
                return;
            }

            if (queue.LocalHolder is { } holder)
            {
                if (holder != owner)
                {
                    // A late notice of an older release: the lease taken here since is still held.
                    return;
                }

                queue.LocalHolder = null;
            }

            if (queue.Waiters.First is { } head)
            {
                head.Value.Signal();
            }
        }
    }

    /// <summary>Ends every wait with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var queue in _queues.Values)
            {
                foreach (var waiter in queue.Waiters)
                {
                    waiter.Fail(new ObjectDisposedException(nameof(RedisLockProvider)));
                }
            }
        }
    }

    internal sealed class KeyQueue(string lockKey)
    {
        public string LockKey { get; } = lockKey;

        public LinkedList<Waiter> Waiters { get; } = new();

        /// <summary>The owner of the lease the last head took, while it is held here.</summary>
        public Guid? LocalHolder { get; set; }

        public long LocalHolderUntil { get; set; }
    }

    /// <summary>One task waiting for a key.</summary>
    internal sealed class Waiter
    {
        private readonly RedisWaitQueues _owner;
        private TaskCompletionSource _wake = NewWake();

        public Waiter(RedisWaitQueues owner, KeyQueue queue)
        {
            _owner = owner;
            Queue = queue;
            Node = new LinkedListNode<Waiter>(this);
        }

        public KeyQueue Queue { get; }

        public LinkedListNode<Waiter> Node { get; }

        /// <summary>Whether this waiter is first in line (set under the queues' lock).</summary>
        public bool IsHead { get; set; }

        /// <summary>
        /// When a lease taken by this process on the key is held, the timestamp until which it is known to be held;
        /// otherwise <see langword="null"/>.
        /// </summary>
        public long? LocalHolderUntil
        {
            get
            {
                lock (_owner._gate)
                {
                    return Queue.LocalHolder is null ? null : Queue.LocalHolderUntil;
                }
            }
        }

        /// <summary>Forgets earlier wake-ups: call before looking at the store, so that a notice during the look is kept.</summary>
        public void Arm()
        {
            lock (_owner._gate)
            {
                if (_wake.Task.IsCompleted)
                {
                    _wake = NewWake();
                }
            }
        }

        public void Signal() => _wake.TrySetResult();

        public void Fail(Exception error) => _wake.TrySetException(error);

        /// <summary>Sleeps until a wake-up, <paramref name="until"/> (a timestamp, <see cref="long.MaxValue"/> for never) or cancellation.</summary>
        /// <returns><see langword="true"/> when woken, <see langword="false"/> when the time ran out.</returns>
        public async ValueTask<bool> SleepAsync(long until, CancellationToken cancellationToken)
        {
            Task wake;
            lock (_owner._gate)
            {
                wake = _wake.Task;
            }

            if (wake.IsCompleted)
            {
                await wake.ConfigureAwait(false);
                return true;
            }

            var time = _owner._time;
            if (until == long.MaxValue)
            {
                await wake.WaitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }

            var delay = time.GetElapsedTime(time.GetTimestamp(), until);
            if (delay <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await wake.WaitAsync(delay, time, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        private static TaskCompletionSource NewWake() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
