namespace Locking;

/// <summary>A store of leases: grants at most one live lease per key at a time.</summary>
public interface ILockProvider
{
    /// <summary>
    /// Acquires a lease on <paramref name="key"/>, waiting up to <see cref="LockOptions.Wait"/> for it.
    /// </summary>
    /// <returns>The lease, or <see langword="null"/> when the key was still busy after the wait.</returns>
    /// <exception cref="ArgumentException">The key or the options are invalid.</exception>
    /// <exception cref="System.Threading.LockRecursionException">The current async flow already holds the key.</exception>
    /// <exception cref="LockStoreUnavailableException">The store could not be reached within the wait.</exception>
    ValueTask<LockLease?> TryAcquireAsync(string key, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Acquires a lease on <paramref name="key"/>, waiting up to <see cref="LockOptions.Wait"/> for it.
    /// </summary>
    /// <exception cref="LockNotAcquiredException">The key was still busy after the wait.</exception>
    /// <exception cref="ArgumentException">The key or the options are invalid.</exception>
    /// <exception cref="System.Threading.LockRecursionException">The current async flow already holds the key.</exception>
    ValueTask<LockLease> AcquireAsync(string key, LockOptions? options = null, CancellationToken cancellationToken = default);
}
