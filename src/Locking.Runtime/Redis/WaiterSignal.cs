namespace Locking;

/// <summary>What wakes one waiting acquire: a grant the server made to it, a release notice of its key, or a failure.</summary>
internal sealed class WaiterSignal(TimeProvider time)
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _signal = NewSignal();
    private long _grantedToken;

    /// <summary>The token of the grant the server made to this waiter, or 0.</summary>
    public long GrantedToken => Interlocked.Read(ref _grantedToken);

    /// <summary>Forgets earlier wake-ups: call before asking the store, so that a notice during the request is kept.</summary>
    public void Arm()
    {
        lock (_gate)
        {
            if (_signal.Task.IsCompletedSuccessfully && GrantedToken == 0)
            {
                _signal = NewSignal();
            }
        }
    }

    public void Grant(long token)
    {
        Interlocked.CompareExchange(ref _grantedToken, token, 0);
        Current.TrySetResult();
    }

    public void Wake() => Current.TrySetResult();

    public void Fail(Exception error) => Current.TrySetException(error);

    private TaskCompletionSource Current
    {
        get
        {
            lock (_gate)
            {
                return _signal;
            }
        }
    }

    /// <summary>Sleeps until a wake-up, <paramref name="until"/> (a timestamp; <see cref="long.MaxValue"/> for never) or cancellation.</summary>
    /// <returns><see langword="true"/> when woken, <see langword="false"/> when the time ran out.</returns>
    public async ValueTask<bool> SleepAsync(long until, CancellationToken cancellationToken)
    {
        var signal = Current.Task;
        if (signal.IsCompleted)
        {
            await signal.ConfigureAwait(false);
            return true;
        }

        if (until == long.MaxValue)
        {
            await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }

        var delay = time.GetElapsedTime(time.GetTimestamp(), until);
        if (delay <= TimeSpan.Zero)
        {
            return false;
        }

        try
        {
            await signal.WaitAsync(delay, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
