using System.ComponentModel;

namespace Locking;

/// <summary>
/// The part of an [Exclusive] wrapper that is the same for every method: the body's cancellation token
/// (cancelled by the caller or by the loss of the lease), the lease-lost check after the body, and the release.
/// Used by generated code; not meant to be called by hand.
/// </summary>
/// <remarks>
/// A struct, and the token source is only created when the caller's token can be cancelled at all, so a call
/// without a cancellable token allocates nothing here.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct ExclusiveScope
{
    private readonly LockLease _lease;
    private readonly CancellationTokenSource? _linked;
    private readonly CancellationToken _callerToken;

    private ExclusiveScope(LockLease lease, CancellationTokenSource? linked, CancellationToken callerToken, CancellationToken token)
    {
        _lease = lease;
        _linked = linked;
        _callerToken = callerToken;
        Token = token;
    }

    /// <summary>Starts the body's scope under <paramref name="lease"/>.</summary>
    /// <param name="lease">The held lease.</param>
    /// <param name="callerToken">The caller's token, or <see cref="CancellationToken.None"/>.</param>
    public static ExclusiveScope Enter(LockLease lease, CancellationToken callerToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (!callerToken.CanBeCanceled)
        {
            return new ExclusiveScope(lease, null, callerToken, lease.LostToken);
        }

        var linked = CancellationTokenSource.CreateLinkedTokenSource(callerToken, lease.LostToken);
        return new ExclusiveScope(lease, linked, callerToken, linked.Token);
    }

    /// <summary>The token the body gets: cancelled when the caller cancels or the lease is lost.</summary>
    public CancellationToken Token { get; }

    /// <summary>The held lease.</summary>
    public LockLease Lease => _lease;

    /// <summary>
    /// Whether <paramref name="exception"/>, thrown by the body, is the body giving up because the lease was lost
    /// (and not because the caller cancelled).
    /// </summary>
    public bool IsLeaseLoss(Exception exception)
        => exception is OperationCanceledException && _lease.IsLost && !_callerToken.IsCancellationRequested;

    /// <summary>The exception the caller gets when the lease was lost while the body ran.</summary>
    public LeaseLostException LeaseLost(Exception? innerException) => new(_lease.Key, _lease.FencingToken, innerException);

    /// <summary>Throws <see cref="LeaseLostException"/> when the lease was lost while the body ran.</summary>
    public void ThrowIfLost()
    {
        if (_lease.IsLost)
        {
            throw LeaseLost(null);
        }
    }

    /// <summary>Ends the scope and releases the lease (owner checked; a store error is logged, never thrown).</summary>
    public ValueTask DisposeAsync()
    {
        _linked?.Dispose();
        return _lease.ReleaseAsync(CancellationToken.None);
    }

    /// <summary>Ends the scope and releases the lease, blocking until the store answered.</summary>
    public void Dispose()
    {
        _linked?.Dispose();
        _lease.Dispose();
    }

    /// <summary>The result of an acquire, blocking when it is not complete yet (the synchronous wrapper shapes).</summary>
    public static T Wait<T>(ValueTask<T> pending)
        => pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
}
