using System.Collections.Concurrent;

namespace Locking.Grains.Tests;

/// <summary>Counts the calls lock grains receive, by key, method and owner: how many calls a waiter sends is part of the contract.</summary>
public sealed class LockGrainCalls : IIncomingGrainCallFilter
{
    private readonly ConcurrentDictionary<(string Key, string Method, Guid Owner), int> _counts = new();

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.Grain is ILockGrain)
        {
            var owner = context.Request.GetArgumentCount() > 0
                ? context.Request.GetArgument(0) switch
                {
                    LockAcquireRequest request => request.Owner,
                    Guid id => id,
                    _ => Guid.Empty,
                }
                : Guid.Empty;
            _counts.AddOrUpdate((context.TargetId.Key.ToString()!, context.MethodName, owner), 1, (_, n) => n + 1);
        }

        return context.Invoke();
    }

    /// <summary>How many calls of <paramref name="method"/> (for example nameof(ILockGrain.AcquireAsync)) the grain of <paramref name="key"/> received.</summary>
    public int Count(string key, string method) => _counts.Where(c => c.Key.Key == key && c.Key.Method == method).Sum(c => c.Value);

    /// <summary>How many calls of <paramref name="method"/> for <paramref name="owner"/> the grain of <paramref name="key"/> received.</summary>
    public int Count(string key, string method, Guid owner) => _counts.GetValueOrDefault((key, method, owner));
}
