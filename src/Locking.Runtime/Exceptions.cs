namespace Locking;

/// <summary>The base of the errors Locking raises itself.</summary>
public class LockException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LockException(string message) : base(message) { }

    /// <summary>Creates the exception with the error that caused it.</summary>
    public LockException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>The lock key the error is about, when there is one.</summary>
    public string? Key { get; init; }
}

/// <summary>The key was still held by someone else when the wait ran out.</summary>
public sealed class LockNotAcquiredException : LockException
{
    /// <summary>Creates the exception for <paramref name="key"/> after a wait of <paramref name="waited"/>.</summary>
    public LockNotAcquiredException(string key, TimeSpan waited)
        : base($"The lock '{key}' is held by another owner; gave up after waiting {waited.TotalMilliseconds:0} ms.")
    {
        Key = key;
        Waited = waited;
    }

    /// <summary>How long the caller waited before it gave up.</summary>
    public TimeSpan Waited { get; }
}

/// <summary>The lease expired or was taken by another owner while its holder still worked under it.</summary>
public sealed class LeaseLostException : LockException
{
    /// <summary>Creates the exception for the lease on <paramref name="key"/> with <paramref name="fencingToken"/>.</summary>
    public LeaseLostException(string key, long fencingToken, Exception? innerException = null)
        : base($"The lease on '{key}' (fencing token {fencingToken}) was lost while its holder was still working; the work may have overlapped another holder's.", innerException)
    {
        Key = key;
        FencingToken = fencingToken;
    }

    /// <summary>The fencing token of the lost lease.</summary>
    public long FencingToken { get; }
}

/// <summary>The lock store could not be reached, or failed, while acquiring a lease.</summary>
public sealed class LockStoreUnavailableException : LockException
{
    /// <summary>Creates the exception for <paramref name="key"/> with the store's error.</summary>
    public LockStoreUnavailableException(string key, Exception? innerException)
        : base($"The lock store could not be reached while acquiring '{key}': {innerException?.Message}", innerException)
    {
        Key = key;
    }
}
