namespace Locking;

/// <summary>
/// The keys the current async flow holds or is acquiring, so that a second acquire of the same key in the
/// same flow throws <see cref="LockRecursionException"/> instead of waiting on itself forever.
/// </summary>
/// <remarks>
/// The flow is marked synchronously, before the acquire's first await, by the provider's non-async entry
/// method: so the mark lands in the caller's execution context, where it flows into everything the caller
/// then runs (an [Exclusive] body, awaited calls, Task.Run children) but not into its siblings. The mark is
/// a node of an immutable list (<see cref="Entry"/>) whose <c>IsActive</c> turns false when the acquire
/// fails or the lease is released (copies that pruning makes share the original's flag), since a continuation can never remove a value from its caller's context.
/// </remarks>
internal static class HeldInFlow
{
    private static readonly AsyncLocal<Entry?> s_head = new();

    /// <summary>One key a flow holds or is acquiring: a node of the flow's immutable list, and the acquire's mark.</summary>
    internal sealed class Entry(object store, string key, Entry? next, Entry? original)
    {
        // A node copied by pruning shares the original's flag, so leaving the original leaves every copy.
        private readonly Entry? _original = original;
        private volatile bool _active = true;

        public object Store { get; } = store;

        public string Key { get; } = key;

        public Entry? Next { get; } = next;

        public bool IsActive => _original?._active ?? _active;

        public void Leave() => _active = false;

        public Entry OriginalOrSelf => _original ?? this;
    }

    /// <summary>Marks <paramref name="key"/> of <paramref name="store"/> as held by the current flow.</summary>
    /// <exception cref="LockRecursionException">The flow already holds or is acquiring the key.</exception>
    public static Entry Enter(object store, string key)
    {
        var head = s_head.Value;
        var pruned = false;
        for (var node = head; node is not null; node = node.Next)
        {
            if (!node.IsActive)
            {
                pruned = true;
            }
            else if (ReferenceEquals(node.Store, store) && string.Equals(node.Key, key, StringComparison.Ordinal))
            {
                throw new LockRecursionException(
                    $"The lock '{key}' is already held by this async flow; acquiring it again would wait on itself. " +
                    "Pass the lease you hold down instead of acquiring the key again.");
            }
        }

        if (pruned)
        {
            head = Prune(head);
        }

        var entry = new Entry(store, key, head, original: null);
        s_head.Value = entry;
        return entry;
    }

    private static Entry? Prune(Entry? node)
    {
        if (node is null)
        {
            return null;
        }

        var next = Prune(node.Next);
        if (!node.IsActive)
        {
            return next;
        }

        return ReferenceEquals(next, node.Next) ? node : new Entry(node.Store, node.Key, next, node.OriginalOrSelf);
    }
}
