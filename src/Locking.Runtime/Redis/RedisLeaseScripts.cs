using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Locking;

/// <summary>
/// The Lua scripts of the Redis lease store (embedded resources under Redis/Scripts), each one round trip, sent by
/// SHA1 with EVALSHA. Their argument layout and answers are known here and nowhere else.
/// </summary>
/// <remarks>
/// acquire, renew and release share a prelude (lease.lua: the key and argument layout and the hand-over to the wait
/// queue) and take the same keys and arguments (<see cref="LeaseArguments"/>), so a lease builds them once at its
/// acquire and every renewal and the release reuse them. A NOSCRIPT answer (first use on a server, after a restart
/// or SCRIPT FLUSH) means the script did not run: the caller sends it again by its text with <see cref="Run"/>
/// and <c>byText: true</c>, which also loads it on that server.
/// </remarks>
internal static class RedisLeaseScripts
{
    private static readonly LuaScriptResource s_acquire = new("acquire", withPrelude: true);
    private static readonly LuaScriptResource s_renew = new("renew", withPrelude: true);
    private static readonly LuaScriptResource s_release = new("release", withPrelude: true);
    private static readonly LuaScriptResource s_fence = new("fence", withPrelude: false);

    /// <summary>The scripts by name.</summary>
    internal enum Script
    {
        /// <summary>Sets the lease if the key is free (drawing a fencing token) or queues the caller; see <see cref="AcquireResult"/>.</summary>
        Acquire,

        /// <summary>Extends the lease if the owner holds it; answers 1 when extended, 0 when the lease is gone.</summary>
        Renew,

        /// <summary>Deletes the lease if the owner holds it and hands the key over; see <see cref="ReleaseResult"/>.</summary>
        Release,
    }

    /// <summary>What <c>acquire.lua</c> answered: a fencing token, or how long the holder's lease still runs.</summary>
    /// <param name="Answer">A fencing token (&gt; 0), or when the key is held 0 (the holder's key never expires) or -(remaining ms) - 1.</param>
    /// <param name="GrantedEarlier">Whether the server granted the key to this owner while it waited, before this call.</param>
    /// <param name="PlaceLost">Whether the caller asked to keep its place in the queue and had none (nothing was queued).</param>
    public readonly record struct AcquireResult(long Answer, bool GrantedEarlier = false, bool PlaceLost = false)
    {
        /// <summary>Whether the lease is the caller's: granted by this call, or earlier by the server while the caller waited.</summary>
        public bool Granted => Answer > 0;

        /// <summary>The fencing token of the granted lease.</summary>
        public long FencingToken => Answer;

        /// <summary>When not granted: the remaining TTL of the holder's lease, or <see langword="null"/> when unknown or never ending.</summary>
        public TimeSpan? HolderRemaining => Answer >= 0 ? null : TimeSpan.FromMilliseconds(-Answer - 1);

        /// <summary>A refusal that tells the waiter to look again after <paramref name="remaining"/>.</summary>
        public static AcquireResult Busy(TimeSpan remaining) => new(-(long)remaining.TotalMilliseconds - 1);

        /// <summary>
        /// Reads the script's answer: an integer; a one-element array for a grant made while the caller waited; an empty
        /// array when the caller's place was gone.
        /// </summary>
        public static AcquireResult From(RedisResult answer)
        {
            if (answer.Resp2Type != ResultType.Array)
            {
                return new((long)answer);
            }

            return answer.Length == 0 ? new(0, PlaceLost: true) : new((long)answer[0], GrantedEarlier: true);
        }
    }

    /// <summary>What <c>release.lua</c> answered.</summary>
    /// <param name="Released">Whether the caller held the lease and it is gone now.</param>
    /// <param name="GrantedTo">The waiter the server granted the key to, if any.</param>
    /// <param name="GrantedToken">That waiter's fencing token.</param>
    public readonly record struct ReleaseResult(bool Released, Guid? GrantedTo, long GrantedToken)
    {
        public static ReleaseResult From(RedisResult answer)
        {
            if (answer.Resp2Type != ResultType.Array)
            {
                return new((long)answer == 1, null, 0);
            }

            var waiter = (byte[])answer[0]!;
            return new(true, new Guid(waiter), (long)answer[1]);
        }
    }

    /// <summary>Runs <paramref name="script"/> for one lease: by SHA1, or by its text after a NOSCRIPT answer.</summary>
    public static Task<RedisResult> Run(IDatabaseAsync database, Script script, LeaseArguments lease, bool byText = false)
        => Send(database, Resource(script), lease.Keys, lease.Values, byText);

    /// <summary>Runs <paramref name="script"/> to its answer, sending the text when the server lacks the script.</summary>
    public static Task<RedisResult> RunToEndAsync(IDatabaseAsync database, Script script, LeaseArguments lease)
        => RunToEndAsync(database, Resource(script), lease.Keys, lease.Values);

    /// <summary>Raises the fencing counter of <paramref name="lease"/> to <paramref name="token"/> if it is lower (Redlock).</summary>
    public static Task<RedisResult> RaiseFenceAsync(IDatabaseAsync database, LeaseArguments lease, long token)
        => RunToEndAsync(database, s_fence, [lease.Keys[1]], [token, lease.TtlMs + lease.CounterRetentionMs]);

    private static Task<RedisResult> Send(IDatabaseAsync database, LuaScriptResource script, RedisKey[] keys, RedisValue[] values, bool byText)
        => byText ? database.ScriptEvaluateAsync(script.Text, keys, values) : database.ScriptEvaluateAsync(script.Sha1, keys, values);

    private static async Task<RedisResult> RunToEndAsync(IDatabaseAsync database, LuaScriptResource script, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await Send(database, script, keys, values, byText: false).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (IsNoScript(ex))
        {
            return await Send(database, script, keys, values, byText: true).ConfigureAwait(false);
        }
    }

    private static LuaScriptResource Resource(Script script) => script switch
    {
        Script.Acquire => s_acquire,
        Script.Renew => s_renew,
        _ => s_release,
    };

    /// <summary>
    /// Reads a grant notice (<c>lease.lua</c>'s grant_to): the granted waiter's process id (32 hex digits), its waiter id
    /// (16 bytes) and the token in decimal; <see langword="null"/> for anything else, such as the empty notice that
    /// tells Redlock waiters the key is free.
    /// </summary>
    public static (ReadOnlyMemory<byte> Process, Guid Waiter, long Token)? ReadGrantNotice(RedisValue message)
    {
        const int processLength = ProcessId.Length, waiterLength = 16;
        if (message.IsNullOrEmpty || (byte[]?)message is not { Length: > processLength + waiterLength } bytes
            || !Utf8Parser.TryParse(bytes.AsSpan(processLength + waiterLength), out long token, out var used)
            || used != bytes.Length - processLength - waiterLength)
        {
            return null;
        }

        return (bytes.AsMemory(0, processLength), new Guid(bytes.AsSpan(processLength, waiterLength)), token);
    }

    /// <summary>Whether <paramref name="error"/> says the server did not know the script (so it did not run).</summary>
    public static bool IsNoScript(Exception error) => error is RedisServerException { Kind: RedisErrorKind.NoScript };

    /// <summary>The text of a script as it is sent (with its prelude), for tests and tools.</summary>
    internal static string Text(string name) => name switch
    {
        "acquire" => s_acquire.Text,
        "renew" => s_renew.Text,
        "release" => s_release.Text,
        "fence" => s_fence.Text,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "The scripts are acquire, renew, release and fence."),
    };

    /// <summary>One script: its text (after the shared prelude, where it has one) and SHA1.</summary>
    private sealed class LuaScriptResource
    {
        public LuaScriptResource(string name, bool withPrelude)
        {
            Text = withPrelude ? Read("lease") + "\n" + Read(name) : Read(name);
            Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Text));
        }

        public string Text { get; }

        public byte[] Sha1 { get; }

        private static string Read(string name)
        {
            var resource = $"Locking.Redis.Scripts.{name}.lua";
            using var stream = typeof(RedisLeaseScripts).Assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The embedded script '{resource}' is missing from the Locking assembly.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
    }
}
