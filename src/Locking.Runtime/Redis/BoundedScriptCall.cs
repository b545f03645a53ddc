using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// One lease script call, awaited for at most a time bound or until the caller cancels, without allocating: the
/// objects are pooled per provider, each with its own timer. It sends the script again by its text when the server
/// answers NOSCRIPT. An answer that comes after the caller gave up is still read and handed to
/// <see cref="IAbandonedAnswers"/>, so an abandoned acquire never leaves a lease behind and an abandoned release still
/// hands the key over.
/// </summary>
internal sealed class BoundedScriptCall : IValueTaskSource<RedisResult>
{
    private const int Waiting = 0, Answered = 1, Abandoned = 2;

    private static readonly Action<object?, CancellationToken> s_onCancel = static (state, token) => ((BoundedScriptCall)state!).OnCancel(token);

    private readonly Pool _pool;
    private readonly ITimer _timer;
    private readonly Action _onAnswered;
    private ManualResetValueTaskSourceCore<RedisResult> _core;
    private ConfiguredTaskAwaitable<RedisResult>.ConfiguredTaskAwaiter _call;
    private CancellationTokenRegistration _cancellation;
    private long _deadline;
    private TimeSpan _bound;
    private int _state;
    private bool _sentByText;
    private RedisLeaseScripts.Script _script;
    private IDatabaseAsync? _database;
    private IAbandonedAnswers? _abandoned;
    private string? _key;
    private LeaseArguments? _lease;

    private BoundedScriptCall(Pool pool)
    {
        _pool = pool;
        _onAnswered = OnAnswered;
        _timer = pool.Time.CreateTimer(static state => ((BoundedScriptCall)state!).OnTimeout(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Sends <paramref name="script"/> for <paramref name="lease"/> and answers it, or <see cref="RedisTimeoutException"/>
    /// after <paramref name="bound"/>, or <see cref="OperationCanceledException"/>. An answer that comes after either goes
    /// to <paramref name="abandoned"/>.
    /// </summary>
    /// <remarks><paramref name="key"/> is the user's key, for the timeout message and the log of an abandoned answer.</remarks>
    public static ValueTask<RedisResult> SendAsync(
        Pool pool,
        IDatabaseAsync database,
        RedisLeaseScripts.Script script,
        LeaseArguments lease,
        TimeSpan bound,
        CancellationToken cancellationToken,
        IAbandonedAnswers abandoned,
        string key)
    {
        var call = pool.Rent();
        call._database = database;
        call._script = script;
        call._abandoned = abandoned;
        call._key = key;
        call._lease = lease;
        return call.Start(bound, cancellationToken);
    }

    private ValueTask<RedisResult> Start(TimeSpan bound, CancellationToken cancellationToken)
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
        return new ValueTask<RedisResult>(this, version);
    }

    private void Send()
    {
        _call = RedisLeaseScripts.Run(_database!, _script, _lease!, _sentByText).ConfigureAwait(false).GetAwaiter();
        _call.UnsafeOnCompleted(_onAnswered);
    }

    private void OnAnswered()
    {
        RedisResult? result = null;
        Exception? error = null;
        try
        {
            result = _call.GetResult();
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
                _core.SetResult(result!);
            }
            else
            {
                _core.SetException(error);
            }

            return;
        }

        // The caller gave up before this answer came. This object is not reused (a stale timer or cancellation callback
        // could still touch it), and its timer goes.
        _timer.Dispose();
        if (error is null)
        {
            _abandoned!.OnAbandonedAnswer(_script, _key!, _lease!, result!);
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
            _core.SetException(new RedisTimeoutException(
                CommandFlags.None,
                $"Redis did not answer the {_script.ToString().ToLowerInvariant()} of '{_key}' within {_bound.TotalMilliseconds:0} ms.",
                CommandStatus.Sent));
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

    public RedisResult GetResult(short token)
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
                _abandoned = null;
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

    /// <summary>A provider's reusable <see cref="BoundedScriptCall"/> objects: as many as calls were ever in flight at once, up to a cap.</summary>
    internal sealed class Pool(TimeProvider time)
    {
        private const int Cap = 1024;
        private readonly Stack<BoundedScriptCall> _free = new();
        private readonly Lock _gate = new();

        public TimeProvider Time { get; } = time;

        public BoundedScriptCall Rent()
        {
            lock (_gate)
            {
                if (_free.TryPop(out var free))
                {
                    return free;
                }
            }

            return new BoundedScriptCall(this);
        }

        public void Return(BoundedScriptCall used)
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

/// <summary>What to do with the answer of a script call whose caller stopped waiting for it.</summary>
internal interface IAbandonedAnswers
{
    void OnAbandonedAnswer(RedisLeaseScripts.Script script, string key, LeaseArguments lease, RedisResult answer);
}
