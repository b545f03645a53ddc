using System.Diagnostics.CodeAnalysis;

namespace Locking;

/// <summary>
/// Looks up a string-keyed dictionary by a span of characters: without allocating a string where the runtime
/// has Dictionary's alternate lookup (.NET 9 and later), by making one on older runtimes.
/// </summary>
internal readonly struct SpanKeyedLookup<TValue>
{
#if NET9_0_OR_GREATER
    private readonly Dictionary<string, TValue>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public SpanKeyedLookup(Dictionary<string, TValue> dictionary) => _lookup = dictionary.GetAlternateLookup<ReadOnlySpan<char>>();

    public bool TryGetValue(ReadOnlySpan<char> key, [MaybeNullWhen(false)] out TValue value) => _lookup.TryGetValue(key, out value);
#else
    private readonly Dictionary<string, TValue> _dictionary;

    public SpanKeyedLookup(Dictionary<string, TValue> dictionary) => _dictionary = dictionary;

    public bool TryGetValue(ReadOnlySpan<char> key, [MaybeNullWhen(false)] out TValue value) => _dictionary.TryGetValue(key.ToString(), out value);
#endif
}
