namespace Locking;

/// <summary>
/// The keys the current async flow holds or is acquiring, so that a second acquire of the same key in the
/// same flow throws <see cref="LockRecursionException"/> instead of waiting on itself forever.
/// </summary>
/// <remarks>
/// The flow is marked synchronously, before the acquire's first await, by the provider's non-async entry
/// method: so the mark lands in the caller's execution context, where it flows into everything the caller
/// then runs (an [Exclusive] body, awaited calls, Task.Run children) but not into its siblings. The mark is
/// an immutable list node with a shared <see cref="Entry"/> whose <c>IsActive</c> turns false when the acquire
/// fails or the lease is released, since a continuation can never remove a value from its caller's context.
/// </remarks>
internal static class HeldInFlow
{
    private static readonly AsyncLocal<Node?> s_head = new();

    internal sealed class Entry
    {
        private volatile bool _active = true;

        public bool IsActive => _active;

        public void Leave() => _active = false;
    }

    private sealed record Node(object Store, string Key, Entry Entry, Node? Next);

    /// <summary>Marks <paramref name="key"/> of <paramref name="store"/> as held by the current flow.</summary>
    /// <exception cref="LockRecursionException">The flow already holds or is acquiring the key.</exception>
    public static Entry Enter(object store, string key)
    {
        var head = s_head.Value;
        var pruned = false;
        for (var node = head; node is not null; node = node.Next)
        {
            if (!node.Entry.IsActive)
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

        var entry = new Entry();
        s_head.Value = new Node(store, key, entry, head);
        return entry;
    }

    private static Node? Prune(Node? node)
    {
        if (node is null)
        {
            return null;
        }

        var next = Prune(node.Next);
        if (!node.Entry.IsActive)
        {
            return next;
        }

        return ReferenceEquals(next, node.Next) ? node : node with { Next = next };
    }
}
