using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// The three Lua scripts of the Redis lease store (embedded resources under Redis/Scripts), each one round trip,
/// sent by SHA1 with EVALSHA. Their argument layout and answers are known here and nowhere else.
/// </summary>
/// <remarks>
/// All three take the same keys and arguments (<see cref="LeaseArguments"/>), so one lease builds them once at its
/// acquire and every renewal and the release reuse them. A NOSCRIPT answer (first use on a server, after a restart
/// or SCRIPT FLUSH) means the script did not run: the caller sends it again by its text with <see cref="Run"/>
/// and <c>byText: true</c>, which also loads it on that server.
/// </remarks>
internal static class RedisLeaseScripts
{
    private static readonly LuaScriptResource s_acquire = new("acquire");
    private static readonly LuaScriptResource s_renew = new("renew");
    private static readonly LuaScriptResource s_release = new("release");

    /// <summary>The scripts by name.</summary>
    internal enum Script
    {
        /// <summary>Sets the lease if the key is free, drawing a fencing token; see <see cref="AcquireResult"/>.</summary>
        Acquire,

        /// <summary>Extends the lease if the owner holds it; answers 1 when extended, 0 when the lease is gone.</summary>
        Renew,

        /// <summary>Deletes the lease if the owner holds it and publishes "owner + lock key"; answers 1 when released.</summary>
        Release,
    }

    /// <summary>What <c>acquire.lua</c> answered: a fencing token, or how long the holder's lease still runs.</summary>
    public readonly record struct AcquireResult(long Answer)
    {
        /// <summary>Whether the lease was granted.</summary>
        public bool Granted => Answer > 0;

        /// <summary>The fencing token of the granted lease.</summary>
        public long FencingToken => Answer;

        /// <summary>When not granted: the remaining TTL of the holder's lease, or <see langword="null"/> when the holder's key never expires.</summary>
        public TimeSpan? HolderRemaining => Answer >= 0 ? null : TimeSpan.FromMilliseconds(-Answer - 1);

        /// <summary>A refusal that tells the waiter to look again after <paramref name="remaining"/>.</summary>
        public static AcquireResult Busy(TimeSpan remaining) => new(-(long)remaining.TotalMilliseconds - 1);
    }

    /// <summary>Runs <paramref name="script"/> for one lease: by SHA1, or by its text after a NOSCRIPT answer.</summary>
    public static Task<RedisResult> Run(IDatabaseAsync database, Script script, LeaseArguments lease, bool byText = false)
    {
        var resource = script switch
        {
            Script.Acquire => s_acquire,
            Script.Renew => s_renew,
            _ => s_release,
        };
        return byText
            ? database.ScriptEvaluateAsync(resource.Text, lease.Keys, lease.Values)
            : database.ScriptEvaluateAsync(resource.Sha1, lease.Keys, lease.Values);
    }

    /// <summary>Runs <paramref name="script"/> to its answer, sending the text when the server lacks the script.</summary>
    public static async Task<long> RunToEndAsync(IDatabaseAsync database, Script script, LeaseArguments lease)
    {
        try
        {
            return (long)await Run(database, script, lease).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (IsNoScript(ex))
        {
            return (long)await Run(database, script, lease, byText: true).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the notice <c>release.lua</c> publishes: the released owner (16 bytes) followed by the lock key in UTF-8;
    /// <see langword="null"/> for anything else.
    /// </summary>
    public static (Guid Owner, string LockKey)? ReadReleaseNotice(RedisValue message)
    {
        const int ownerLength = 16;
        if (message.IsNullOrEmpty || (byte[]?)message is not { Length: > ownerLength } bytes)
        {
            return null;
        }

        return (new Guid(bytes.AsSpan(0, ownerLength)), Encoding.UTF8.GetString(bytes, ownerLength, bytes.Length - ownerLength));
    }

    /// <summary>Whether <paramref name="error"/> says the server did not know the script (so it did not run).</summary>
    public static bool IsNoScript(Exception error) => error is RedisServerException { Kind: RedisErrorKind.NoScript };

    /// <summary>The text of a script, for tests and tools.</summary>
    internal static string Text(string name) => name switch
    {
        "acquire" => s_acquire.Text,
        "renew" => s_renew.Text,
        "release" => s_release.Text,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "There are three scripts: acquire, renew and release."),
    };

    /// <summary>One script: its text and SHA1.</summary>
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
    }
}

/// <summary>
/// The keys and arguments of one lease's scripts, built once at acquire and reused, unchanged, by its renewals and
/// its release (the arrays are only read, so calls in flight at the same time may share them).
/// </summary>
/// <remarks>
/// KEYS: the lock key, its fencing counter. ARGV: the owner token (16 bytes), the TTL in ms, how long the counter
/// outlives the lease in ms, the release channel.
/// </remarks>
internal sealed class LeaseArguments
{
    public LeaseArguments(string lockKey, Guid owner, long ttlMs, long counterRetentionMs, RedisValue releaseChannel)
    {
        LockKey = lockKey;
        Owner = owner;
        Keys = [lockKey, RedisKeyspace.FenceKey(lockKey)];
        Values = [owner.ToByteArray(), ttlMs, counterRetentionMs, releaseChannel];
    }

    /// <summary>The lease's Redis key.</summary>
    public string LockKey { get; }

    /// <summary>The owner token.</summary>
    public Guid Owner { get; }

    /// <summary>The TTL the arguments carry, in ms.</summary>
    public long TtlMs => (long)Values[1];

    public RedisKey[] Keys { get; }

    public RedisValue[] Values { get; }

    /// <summary>The same lease with another TTL (a renewal asked for a TTL other than the acquire's).</summary>
    public LeaseArguments WithTtl(long ttlMs)
        => ttlMs == TtlMs ? this : new LeaseArguments(LockKey, Owner, ttlMs, (long)Values[2], Values[3]);
}
