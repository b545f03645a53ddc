namespace Locking;

/// <summary>
/// A held lease on a lock key. Disposing it releases it (owner checked, idempotent). While held it renews
/// itself every Ttl/3 unless acquired with <see cref="LockOptions.Renew"/> off, and it fires
/// <see cref="LostToken"/> as soon as its holder can no longer be sure it still holds it.
/// </summary>
public abstract class LockLease : IAsyncDisposable, IDisposable
{
    /// <summary>Creates a lease on <paramref name="key"/> with its fencing token.</summary>
    protected LockLease(string key, long fencingToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        Key = key;
        FencingToken = fencingToken;
    }

    /// <summary>The lock key.</summary>
    public string Key { get; }

    /// <summary>
    /// A number strictly increasing per key across all holders, also across a store restart. Pass it to the
    /// resource you protect so that it can reject writes from a holder whose lease has since passed to another.
    /// </summary>
    public long FencingToken { get; }

    /// <summary>Cancelled as soon as the holder can no longer be sure it holds the lease.</summary>
    public abstract CancellationToken LostToken { get; }

    /// <summary>Whether the lease was lost (expired, taken, or not confirmed in time).</summary>
    public virtual bool IsLost => LostToken.IsCancellationRequested;

    /// <summary>Extends the lease by its Ttl now.</summary>
    /// <returns><see langword="false"/> when the lease is gone: lost, released, or no longer owned in the store.</returns>
    public abstract ValueTask<bool> RenewAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases the lease if this holder still owns it. Idempotent; a store that cannot be reached is logged,
    /// not thrown, since the lease then ends by its Ttl.
    /// </summary>
    public abstract ValueTask ReleaseAsync(CancellationToken cancellationToken = default);

    /// <summary>Releases the lease.</summary>
    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ReleaseAsync(CancellationToken.None);
    }

    /// <summary>Releases the lease, blocking until the store answered.</summary>
    public void Dispose()
    {
        GC.SuppressFinalize(this);
        var release = ReleaseAsync(CancellationToken.None);
        if (!release.IsCompletedSuccessfully)
        {
            release.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"LockLease '{Key}' (fencing token {FencingToken}{(IsLost ? ", lost" : "")})";
}
