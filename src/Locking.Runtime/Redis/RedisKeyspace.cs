using System.Buffers;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// How lock keys map to Redis keys and the release channel. The lease of user key K lives in
/// <c>{prefix}{K}</c> and its fencing counter in <c>{prefix}{K}:fence</c>: the braces make K the Redis Cluster
/// hash tag, so both keys share one slot and one Lua script may touch both.
/// </summary>
/// <remarks>
/// A hash tag ends at the first '}', so a K holding braces is escaped: '\' becomes "\\", '{' becomes "\(" and
/// '}' becomes "\)". Keys without those three characters (nearly all) are used as they are; the mapping stays
/// one-to-one either way, so two user keys never share a lease. Spaces, newlines and non-ASCII text need no
/// escaping: Redis keys are binary safe.
/// </remarks>
internal sealed class RedisKeyspace
{
    private static readonly RedisKey s_fenceSuffix = new(":fence");
    private static readonly SearchValues<char> s_needsEscape = SearchValues.Create("\\{}");

    private readonly string _prefix;

    public RedisKeyspace(string prefix)
    {
        _prefix = prefix;
        ReleaseChannel = RedisChannel.Literal(prefix + "released");
        ReleaseChannelName = (string)ReleaseChannel!;
    }

    /// <summary>The pub/sub channel on which a release publishes the released lock key.</summary>
    public RedisChannel ReleaseChannel { get; }

    /// <summary>The channel name as a script argument.</summary>
    public RedisValue ReleaseChannelName { get; }

    /// <summary>The Redis key of the lease on <paramref name="key"/>.</summary>
    public string LockKey(string key)
    {
        var escapeAt = key.AsSpan().IndexOfAny(s_needsEscape);
        return escapeAt < 0
            ? string.Concat(_prefix, "{", key, "}")
            : string.Concat(_prefix, "{", Escape(key, escapeAt), "}");
    }

    /// <summary>The Redis key of the fencing counter that belongs to <paramref name="lockKey"/>.</summary>
    /// <remarks>Built by <see cref="RedisKey.Append"/>: one UTF-8 buffer instead of a second UTF-16 string.</remarks>
    public static RedisKey FenceKey(string lockKey) => new RedisKey(lockKey).Append(s_fenceSuffix);

    private static string Escape(string key, int first)
    {
        var builder = new System.Text.StringBuilder(key.Length + 8);
        builder.Append(key, 0, first);
        for (var i = first; i < key.Length; i++)
        {
            switch (key[i])
            {
                case '\\': builder.Append(@"\\"); break;
                case '{': builder.Append(@"\("); break;
                case '}': builder.Append(@"\)"); break;
                default: builder.Append(key[i]); break;
            }
        }

        return builder.ToString();
    }
}
