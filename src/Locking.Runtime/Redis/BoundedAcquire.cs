using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// One acquire round trip, awaited for at most a time bound or until the caller cancels, without allocating: the
/// objects are pooled per provider, each with its own timer. It sends the script again by its text when the server
/// answers NOSCRIPT, and reads the answer into an <see cref="RedisLeaseScripts.AcquireResult"/>. An answer that comes
/// after the waiter gave up is still read, and a grant in it is released at once, so an abandoned request never
/// leaves a lease behind.
/// </summary>
internal sealed class BoundedAcquire : IValueTaskSource<RedisLeaseScripts.AcquireResult>
{
    private const int Waiting = 0, Answered = 1, Abandoned = 2;

    private static readonly Action<object?, CancellationToken> s_onCancel = static (state, token) => ((BoundedAcquire)state!).OnCancel(token);

    private readonly Pool _pool;
    private readonly ITimer _timer;
    private readonly Action _onAnswered;
    private ManualResetValueTaskSourceCore<RedisLeaseScripts.AcquireResult> _core;
    private ConfiguredTaskAwaitable<RedisResult>.ConfiguredTaskAwaiter _call;
    private CancellationTokenRegistration _cancellation;
    private long _deadline;
    private TimeSpan _bound;
    private int _state;
    private bool _sentByText;
    private IDatabaseAsync? _database;
    private RedisLockProvider? _provider;
    private string? _key;
    private LeaseArguments? _lease;

    private BoundedAcquire(Pool pool)
    {
        _pool = pool;
        _onAnswered = OnAnswered;
        _timer = pool.Time.CreateTimer(static state => ((BoundedAcquire)state!).OnTimeout(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Sends the acquire of <paramref name="lease"/> and answers it, or <see cref="RedisTimeoutException"/> after
    /// <paramref name="bound"/>, or <see cref="OperationCanceledException"/>. A grant that comes after either goes
    /// back through <see cref="RedisLockProvider.ReleaseAbandonedGrant"/>.
    /// </summary>
    /// <remarks><paramref name="key"/> is the user's key, for the timeout message and the log of an abandoned grant.</remarks>
    public static ValueTask<RedisLeaseScripts.AcquireResult> SendAsync(
        Pool pool,
        IDatabaseAsync database,
        LeaseArguments lease,
        TimeSpan bound,
        CancellationToken cancellationToken,
        RedisLockProvider provider,
        string key)
    {
        var bounded = pool.Rent();
        bounded._database = database;
        bounded._provider = provider;
        bounded._key = key;
        bounded._lease = lease;
        return bounded.Start(bound, cancellationToken);
    }

    private ValueTask<RedisLeaseScripts.AcquireResult> Start(TimeSpan bound, CancellationToken cancellationToken)
    {
        _core.Reset();
        _state = Waiting;
        _sentByText = false;
        _bound = bound;
        var version = _core.Version;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(s_onCancel, this);
        }

        if (bound == Timeout.InfiniteTimeSpan)
        {
            _deadline = long.MaxValue;
        }
        else
        {
            _deadline = _pool.Time.GetTimestamp() + (long)(bound.Ticks * (double)_pool.Time.TimestampFrequency / TimeSpan.TicksPerSecond);
            _timer.Change(bound, Timeout.InfiniteTimeSpan);
        }

        Send();
        return new ValueTask<RedisLeaseScripts.AcquireResult>(this, version);
    }

    private void Send()
    {
        _call = RedisLeaseScripts.Run(_database!, RedisLeaseScripts.Script.Acquire, _lease!, _sentByText).ConfigureAwait(false).GetAwaiter();
        _call.UnsafeOnCompleted(_onAnswered);
    }

    private void OnAnswered()
    {
        RedisLeaseScripts.AcquireResult result = default;
        Exception? error = null;
        try
        {
            result = new RedisLeaseScripts.AcquireResult((long)_call.GetResult());
        }
        catch (Exception ex)
        {
            error = ex;
        }

        if (error is not null && !_sentByText && RedisLeaseScripts.IsNoScript(error) && Volatile.Read(ref _state) == Waiting)
        {
            // The server does not know the script yet (or lost it): it did not run, so send its text.
            _sentByText = true;
            Send();
            return;
        }

        if (Interlocked.CompareExchange(ref _state, Answered, Waiting) == Waiting)
        {
            if (_deadline != long.MaxValue)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            _cancellation.Dispose();
            if (error is null)
            {
                _core.SetResult(result);
            }
            else
            {
                _core.SetException(error);
            }

            return;
        }

        // The waiter gave up before this answer came: a grant in it belongs to nobody, so give it back. This object
        // is not reused (a stale timer or cancellation callback could still touch it), and its timer goes.
        _timer.Dispose();
        if (error is null && result.Granted)
        {
            _provider!.ReleaseAbandonedGrant(_key!, _lease!);
        }
    }

    private void OnTimeout()
    {
        var now = _pool.Time.GetTimestamp();
        if (now < _deadline)
        {
            // Early, or a stale callback of an earlier use: wait for the rest of this use's bound.
            if (Volatile.Read(ref _state) == Waiting && _deadline != long.MaxValue)
            {
                _timer.Change(_pool.Time.GetElapsedTime(now, _deadline), Timeout.InfiniteTimeSpan);
            }

            return;
        }

        if (Interlocked.CompareExchange(ref _state, Abandoned, Waiting) == Waiting)
        {
            _cancellation.Dispose();
            _core.SetException(new RedisTimeoutException(CommandFlags.None, $"Redis did not answer an acquire of '{_key}' within {_bound.TotalMilliseconds:0} ms.", CommandStatus.Sent));
        }
    }

    private void OnCancel(CancellationToken token)
    {
        if (Interlocked.CompareExchange(ref _state, Abandoned, Waiting) == Waiting)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _core.SetException(new OperationCanceledException(token));
        }
    }

    public RedisLeaseScripts.AcquireResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            if (Volatile.Read(ref _state) == Answered)
            {
                _database = null;
                _provider = null;
                _key = null;
                _lease = null;
                _call = default;
                _cancellation = default;
                _pool.Return(this);
            }
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    /// <summary>A provider's reusable <see cref="BoundedAcquire"/> objects: as many as acquires were ever in flight at once, up to a cap.</summary>
    internal sealed class Pool(TimeProvider time)
    {
        private const int Cap = 1024;
        private readonly Stack<BoundedAcquire> _free = new();
        private readonly Lock _gate = new();

        public TimeProvider Time { get; } = time;

        public BoundedAcquire Rent()
        {
            lock (_gate)
            {
                if (_free.TryPop(out var free))
                {
                    return free;
                }
            }

            return new BoundedAcquire(this);
        }

        public void Return(BoundedAcquire used)
        {
            lock (_gate)
            {
                if (_free.Count < Cap)
                {
                    _free.Push(used);
                    return;
                }
            }

            used._timer.Dispose();
        }
    }
}
