using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// The three Lua scripts of the Redis lease store (embedded resources under Redis/Scripts), each one round trip,
/// read once and sent by SHA1 with EVALSHA. Their argument layout and answers are known here and nowhere else.
/// </summary>
internal static class RedisLeaseScripts
{
    private static readonly LuaScriptResource s_acquire = new("acquire");
    private static readonly LuaScriptResource s_renew = new("renew");
    private static readonly LuaScriptResource s_release = new("release");

    /// <summary>What <c>acquire.lua</c> answered: a fencing token, or how long the holder's lease still runs.</summary>
    public readonly record struct AcquireResult(long Answer)
    {
        /// <summary>Whether the lease was granted.</summary>
        public bool Granted => Answer > 0;

        /// <summary>The fencing token of the granted lease.</summary>
        public long FencingToken => Answer;

        /// <summary>When not granted: the remaining TTL of the holder's lease, or <see langword="null"/> when the holder's key never expires.</summary>
        public TimeSpan? HolderRemaining => Answer >= 0 ? null : TimeSpan.FromMilliseconds(-Answer - 1);
    }

    /// <summary>Sets the lease on <paramref name="lockKey"/> if it is free, drawing a fencing token.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<AcquireResult> AcquireAsync(IDatabaseAsync database, string lockKey, RedisValue owner, long ttlMs, long counterRetentionMs)
    {
        RedisKey[] keys = [lockKey, RedisKeyspace.FenceKey(lockKey)];
        RedisValue[] values = [owner, ttlMs, counterRetentionMs];
        RedisResult answer;
        if (!s_acquire.SentOnce)
        {
            answer = await s_acquire.SendTextAsync(database, keys, values).ConfigureAwait(false);
        }
        else
        {
            try
            {
                answer = await database.ScriptEvaluateAsync(s_acquire.Sha1, keys, values).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Kind == RedisErrorKind.NoScript)
            {
                answer = await s_acquire.SendTextAsync(database, keys, values).ConfigureAwait(false);
            }
        }

        return new AcquireResult((long)answer);
    }

    /// <summary>Extends the lease on <paramref name="lockKey"/> if <paramref name="owner"/> holds it.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<bool> RenewAsync(IDatabaseAsync database, string lockKey, RedisValue owner, long ttlMs, long counterRetentionMs)
    {
        RedisKey[] keys = [lockKey, RedisKeyspace.FenceKey(lockKey)];
        RedisValue[] values = [owner, ttlMs, counterRetentionMs];
        RedisResult answer;
        if (!s_renew.SentOnce)
        {
            answer = await s_renew.SendTextAsync(database, keys, values).ConfigureAwait(false);
        }
        else
        {
            try
            {
                answer = await database.ScriptEvaluateAsync(s_renew.Sha1, keys, values).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Kind == RedisErrorKind.NoScript)
            {
                answer = await s_renew.SendTextAsync(database, keys, values).ConfigureAwait(false);
            }
        }

        return (long)answer == 1;
    }

    /// <summary>
    /// Deletes the lease on <paramref name="lockKey"/> if <paramref name="owner"/> holds it, and publishes the release
    /// notice "owner + lock key" on <paramref name="releaseChannel"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<bool> ReleaseAsync(IDatabaseAsync database, string lockKey, RedisValue owner, RedisValue releaseChannel)
    {
        RedisKey[] keys = [lockKey];
        RedisValue[] values = [owner, releaseChannel];
        RedisResult answer;
        if (!s_release.SentOnce)
        {
            answer = await s_release.SendTextAsync(database, keys, values).ConfigureAwait(false);
        }
        else
        {
            try
            {
                answer = await database.ScriptEvaluateAsync(s_release.Sha1, keys, values).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Kind == RedisErrorKind.NoScript)
            {
                answer = await s_release.SendTextAsync(database, keys, values).ConfigureAwait(false);
            }
        }

        return (long)answer == 1;
    }

    /// <summary>The text of a script, for tests and tools.</summary>
    internal static string Text(string name) => name switch
    {
        "acquire" => s_acquire.Text,
        "renew" => s_renew.Text,
        "release" => s_release.Text,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "There are three scripts: acquire, renew and release."),
    };

    /// <summary>
    /// One script: its text and SHA1. The text is sent only after a NOSCRIPT answer (first use on a server, after a
    /// restart or SCRIPT FLUSH); StackExchange.Redis then loads it on that server and goes on with EVALSHA.
    /// </summary>
    private sealed class LuaScriptResource
    {
        public LuaScriptResource(string name)
        {
            var resource = $"Locking.Redis.Scripts.{name}.lua";
            using var stream = typeof(RedisLeaseScripts).Assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The embedded script '{resource}' is missing from the Locking assembly.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            Text = reader.ReadToEnd();
            Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Text));
        }

        public string Text { get; }

        public byte[] Sha1 { get; }

        /// <summary>Whether a server ran the script once: until then the text is sent, which avoids a NOSCRIPT round trip.</summary>
        public bool SentOnce => Volatile.Read(ref _sentOnce);

        private bool _sentOnce;

        /// <summary>Runs the script by its text; StackExchange.Redis loads it on that server and uses EVALSHA from then on.</summary>
        public async Task<RedisResult> SendTextAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] values)
        {
            var answer = await database.ScriptEvaluateAsync(Text, keys, values).ConfigureAwait(false);
            Volatile.Write(ref _sentOnce, true);
            return answer;
        }
    }
}
