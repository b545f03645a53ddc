using Locking.LoadTest.Cases;
using StackExchange.Redis;

namespace Locking.LoadTest.Libraries;

/// <summary>
/// One lock library under test, on its own connection. The cases drive it through
/// <see cref="LockLibrary{THandle}"/>, typed by the library's own handle so that the harness adds no wrapper
/// allocation or await of its own to an operation.
/// </summary>
internal abstract class LockLibrary(ConnectionMultiplexer connection) : IAsyncDisposable
{
    /// <summary>The connection this instance talks through; the round-trip count profiles it.</summary>
    public ConnectionMultiplexer Connection { get; } = connection;

    /// <summary>The lease time-to-live of the next acquisitions.</summary>
    public TimeSpan Ttl { get; private set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait for a busy key of the next acquisitions; zero tries once.</summary>
    public TimeSpan Wait { get; private set; } = TimeSpan.Zero;

    /// <summary>Sets the lease time-to-live and the wait of the acquisitions that follow.</summary>
    public void Configure(TimeSpan ttl, TimeSpan wait)
    {
        Ttl = ttl;
        Wait = wait;
        OnConfigured();
    }

    /// <summary>Lets a library build its per-configuration objects once, outside any measured loop.</summary>
    protected virtual void OnConfigured()
    {
    }

    /// <summary>Runs <paramref name="loadCase"/> against this library with its own handle type.</summary>
    public abstract Task<CaseResult> RunAsync(LoadCase loadCase, CaseContext context);

    public virtual async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}

/// <summary>A lock library whose acquire hands out <typeparamref name="THandle"/>.</summary>
internal abstract class LockLibrary<THandle>(ConnectionMultiplexer connection) : LockLibrary(connection)
    where THandle : class
{
    /// <summary>Acquires <paramref name="key"/> with the configured Ttl and Wait.</summary>
    /// <returns>A handle; not <see cref="IsAcquired"/> when the key stayed busy.</returns>
    public abstract ValueTask<THandle?> TryAcquireAsync(string key, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="handle"/> holds its key.</summary>
    public virtual bool IsAcquired(THandle? handle) => handle is not null;

    /// <summary>Releases a held lock.</summary>
    public abstract ValueTask ReleaseAsync(string key, THandle handle);

    /// <summary>Disposes a handle that did not acquire (libraries that hand one out anyway want it disposed).</summary>
    public virtual ValueTask DiscardAsync(THandle handle) => ValueTask.CompletedTask;

    /// <summary>Whether the library itself says the lock held through <paramref name="handle"/> was lost.</summary>
    public abstract bool IsLost(THandle handle);

    public sealed override Task<CaseResult> RunAsync(LoadCase loadCase, CaseContext context) => loadCase.RunAsync(this, context);
}

/// <summary>How to make instances of one library: the name on the command line and in results.</summary>
internal sealed record LibraryKind(string Name, string Description, bool AutoRenews, Func<ConnectionMultiplexer, bool, LockLibrary> Create)
{
    /// <summary>Every library, in the order they run; the floor first so that later ratios read against it.</summary>
    public static IReadOnlyList<LibraryKind> All { get; } =
    [
        new("floor", "raw StackExchange.Redis sending Locking's own acquire and release scripts, nothing else", AutoRenews: false,
            (connection, _) => new FloorLibrary(connection)),
        new("locking", "Locking RedisLockProvider", AutoRenews: true,
            (connection, _) => new LockingLibrary(connection)),
        new("distributedlock", "DistributedLock.Redis 1.1.1 RedisDistributedLock", AutoRenews: true,
            (connection, _) => new DistributedLockLibrary(connection)),
        new("redlock", "RedLock.net 2.3.2 RedLockFactory (one master)", AutoRenews: true,
            (connection, verifier) => new RedLockLibrary(connection, verifier)),
        new("setnx", "reference without fencing: raw SET NX PX, owner-checked Lua DEL + PUBLISH", AutoRenews: false,
            (connection, _) => new SetNxLibrary(connection)),
    ];

    /// <summary>Connects a new multiplexer and makes an instance on it.</summary>
    /// <param name="verifier">
    /// An instance used only to probe whether keys are still held: it gives up on a busy key at once.
    /// </param>
    public async Task<LockLibrary> ConnectAsync(ConfigurationOptions configuration, bool verifier = false)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration.Clone());
        try
        {
            return Create(connection, verifier);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
