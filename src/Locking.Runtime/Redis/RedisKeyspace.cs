using System.Buffers;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// How lock keys map to Redis keys and channels. The lease of user key K lives in <c>{prefix}{K}</c>, its fencing
/// counter in <c>{prefix}{K}:fence</c>, its wait queue in <c>{prefix}{K}:queue</c> and <c>{prefix}{K}:waiters</c>,
/// and its notices go to the channel <c>{prefix}{K}:notices</c>: the braces make K the Redis Cluster hash tag, so
/// all of them share one slot (and one shard for sharded pub/sub), and one Lua script may touch them all.
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
    private static readonly RedisKey s_queueSuffix = new(":queue");
    private static readonly RedisKey s_waitersSuffix = new(":waiters");

    /// <summary>What follows the lease key in the name of its notice channel (the scripts append it themselves).</summary>
    public const string NoticeSuffix = ":notices";
    private static readonly SearchValues<char> s_needsEscape = SearchValues.Create("\\{}");

    private readonly string _prefix;

    public RedisKeyspace(string prefix)
    {
        _prefix = prefix;
    }

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

    /// <summary>The sorted set of the waiters queued for <paramref name="lockKey"/>, by arrival.</summary>
    public static RedisKey QueueKey(string lockKey) => new RedisKey(lockKey).Append(s_queueSuffix);

    /// <summary>The hash of the queued waiters' places: when each expires, its TTL and its process.</summary>
    public static RedisKey WaitersKey(string lockKey) => new RedisKey(lockKey).Append(s_waitersSuffix);

    /// <summary>The name of the channel on which <paramref name="lockKey"/>'s grants and release notices go out.</summary>
    public static string NoticeChannel(string lockKey) => lockKey + NoticeSuffix;

    /// <summary>The lock key whose notices go to <paramref name="channel"/>.</summary>
    public static string LockKeyOfChannel(string channel) => channel[..^NoticeSuffix.Length];

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
