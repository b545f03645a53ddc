using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Locking.Grains.Tests;

/// <summary>
/// A real grain storage (Orleans' memory storage) behind a switch: the writes a test names fail or stall, as a storage
/// that errors or stops answering would. Reads and clears pass straight through.
/// </summary>
internal sealed class FaultyGrainStorage(IGrainStorage inner, StorageFaults faults) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await faults.BeforeWriteAsync(grainId);
        await inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        => inner.ClearStateAsync(stateName, grainId, grainState);

    /// <summary>A one-silo cluster whose lock grains keep their records in a <see cref="FaultyGrainStorage"/> steered by <paramref name="faults"/>.</summary>
    public static Task<InProcessTestCluster> StartClusterAsync(StorageFaults faults, Action<LockGrainOptions>? configure = null)
        => TestClusters.StartAsync(1, silo =>
        {
            silo.AddMemoryGrainStorage("memory");
            silo.Services.AddKeyedSingleton<IGrainStorage>(
                "faulty",
                (services, _) => new FaultyGrainStorage(services.GetRequiredKeyedService<IGrainStorage>("memory"), faults));
            silo.AddLockGrains("faulty", configure);
        });
}

/// <summary>The faults a <see cref="FaultyGrainStorage"/> injects, per grain.</summary>
public sealed class StorageFaults
{
    private readonly Lock _gate = new();
    private readonly Dictionary<GrainId, (int Pass, int Fail)> _plans = [];
    private readonly Dictionary<GrainId, HeldWrite> _holds = [];

    /// <summary>
    /// After <paramref name="after"/> more writes of <paramref name="grain"/> went through, the next <paramref name="count"/>
    /// throw <see cref="StorageFaultException"/>.
    /// </summary>
    public void FailWrites(GrainId grain, int count = 1, int after = 0)
    {
        lock (_gate)
        {
            _plans[grain] = (after, count);
        }
    }

    /// <summary>Every write of <paramref name="grain"/> succeeds again.</summary>
    public void Heal(GrainId grain)
    {
        lock (_gate)
        {
            _plans.Remove(grain);
        }
    }

    /// <summary>The next write of <paramref name="grain"/> waits until the test lets it go on or fail.</summary>
    public HeldWrite HoldNextWrite(GrainId grain)
    {
        var hold = new HeldWrite();
        lock (_gate)
        {
            _holds[grain] = hold;
        }

        return hold;
    }

    internal async Task BeforeWriteAsync(GrainId grain)
    {
        HeldWrite? hold;
        lock (_gate)
        {
            if (_holds.Remove(grain, out hold))
            {
            }
            else if (_plans.TryGetValue(grain, out var plan) && plan.Pass > 0)
            {
                _plans[grain] = plan with { Pass = plan.Pass - 1 };
            }
            else if (plan.Fail > 0)
            {
                _plans[grain] = plan with { Fail = plan.Fail - 1 };
                throw new StorageFaultException($"The storage failed this write of {grain} (a fault injected by the test).");
            }
        }

        if (hold is not null)
        {
            await hold.WaitAsync(grain);
        }
    }
}

/// <summary>A write held by <see cref="StorageFaults.HoldNextWrite"/>.</summary>
public sealed class HeldWrite
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<bool> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the write reached the storage and waits there.</summary>
    public Task Reached => _reached.Task;

    /// <summary>Lets the write go on to the storage.</summary>
    public void Proceed() => _outcome.TrySetResult(true);

    /// <summary>Fails the write with <see cref="StorageFaultException"/>.</summary>
    public void Fail() => _outcome.TrySetResult(false);

    internal async Task WaitAsync(GrainId grain)
    {
        _reached.TrySetResult();
        if (!await _outcome.Task)
        {
            throw new StorageFaultException($"The storage failed this write of {grain} (a fault injected by the test).");
        }
    }
}

/// <summary>The error of a write that <see cref="StorageFaults"/> made fail.</summary>
public sealed class StorageFaultException(string message) : Exception(message);
