// Leases whose ownership moves on: returned, kept in fields, handed to an owner, released in finally.
public sealed class LeaderElection(ILockProvider locks) : IAsyncDisposable
{
    private LockLease? _leadership;

    public bool IsLeader => _leadership is { IsLost: false };

    public async Task<bool> TryLeadAsync(CancellationToken ct)
    {
        _leadership ??= await locks.TryAcquireAsync("cluster/leader", new LockOptions { Wait = TimeSpan.Zero }, ct);
        return _leadership is not null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_leadership is { } lease)
        {
            _leadership = null;
            await lease.DisposeAsync();
        }
    }
}

public sealed class LeaseBroker(ILockProvider locks)
{
    private readonly Dictionary<string, LockLease> _held = new();

    public ValueTask<LockLease> AcquireForCallerAsync(string resource, CancellationToken ct) => locks.AcquireAsync("resources/" + resource, cancellationToken: ct);

    public async Task<LockLease?> TryForCallerAsync(string resource)
    {
        var lease = await locks.TryAcquireAsync("resources/" + resource);
        return lease;
    }

    public async Task HoldAsync(string resource) => _held[resource] = await locks.AcquireAsync("resources/" + resource);

    public async Task WatchAsync(string resource, Func<LockLease, Task> watcher) => await Track(await locks.AcquireAsync("watch/" + resource), watcher);

    private static Task Track(LockLease lease, Func<LockLease, Task> watcher) => watcher(lease);
}

public sealed class Worker(ILockProvider locks)
{
    public async Task<long> RunAsync(string job, CancellationToken ct)
    {
        await using var lease = await locks.AcquireAsync("jobs/" + job, cancellationToken: ct);
        return lease.FencingToken;
    }

    public async Task<bool> RunIfFreeAsync(string job)
    {
        var lease = await locks.TryAcquireAsync("jobs/" + job, new LockOptions { Wait = TimeSpan.Zero });
        if (lease is null)
        {
            return false;
        }

        try
        {
            await Task.Yield();
            return true;
        }
        finally
        {
            await lease.ReleaseAsync();
        }
    }

    public void RunBlocking(string job)
    {
        using (locks.AcquireAsync("jobs/" + job).AsTask().GetAwaiter().GetResult())
        {
            Thread.Sleep(1);
        }
    }
}
