using StackExchange.Redis;

namespace Locking;

/// <summary>
/// The keys and arguments of one lease's scripts (the layout is described in Redis/Scripts/lease.lua), built once at
/// acquire and reused, unchanged, by its renewals and its release; the arrays are only read, so calls in flight at
/// the same time may share them.
/// </summary>
internal sealed class LeaseArguments
{
    private const int OwnerArg = 0, TtlArg = 1, RetentionArg = 2, LifetimeArg = 5, WaiterArg = 6, ModeArg = 8;

    public LeaseArguments(LeaseScriptSettings settings, string lockKey, Guid owner, long ttlMs, long queueLifetimeMs, Guid? waiter, LeaseMode mode)
    {
        LockKey = lockKey;
        Owner = owner;
        Settings = settings;
        Keys = [lockKey, RedisKeyspace.FenceKey(lockKey), RedisKeyspace.QueueKey(lockKey), RedisKeyspace.WaitersKey(lockKey)];
        var ownerBytes = owner.ToByteArray();
        Values =
        [
            ownerBytes,
            ttlMs,
            settings.CounterRetentionMs,
            LeaseScriptSettings.NoticeSuffix,
            settings.PublishCommand,
            queueLifetimeMs,
            waiter is not { } id ? RedisValue.EmptyString : id == owner ? ownerBytes : id.ToByteArray(),
            settings.ProcessId,
            LeaseScriptSettings.ModeValue(mode),
        ];
    }

    private LeaseArguments(LeaseArguments from, RedisValue[] values)
    {
        LockKey = from.LockKey;
        Owner = from.Owner;
        Settings = from.Settings;
        Keys = from.Keys;
        Values = values;
    }

    /// <summary>The lease's Redis key.</summary>
    public string LockKey { get; }

    /// <summary>The owner token.</summary>
    public Guid Owner { get; }

    public LeaseScriptSettings Settings { get; }

    /// <summary>The TTL the arguments carry, in ms.</summary>
    public long TtlMs => (long)Values[TtlArg];

    /// <summary>
    /// How long a place in the wait queue is kept without a word from its waiter, in ms: positive to take a place,
    /// negative to keep one only, 0 when the caller does not queue.
    /// </summary>
    public long QueueLifetimeMs => (long)Values[LifetimeArg];

    /// <summary>How much longer than its lease the fencing counter is kept, in ms.</summary>
    public long CounterRetentionMs => (long)Values[RetentionArg];

    public RedisKey[] Keys { get; }

    public RedisValue[] Values { get; }

    /// <summary>The same lease with another TTL (a renewal asked for a TTL other than the acquire's).</summary>
    public LeaseArguments WithTtl(long ttlMs)
    {
        if (ttlMs == TtlMs)
        {
            return this;
        }

        var values = (RedisValue[])Values.Clone();
        values[TtlArg] = ttlMs;
        return new LeaseArguments(this, values);
    }

    /// <summary>The same waiter asking to keep its place in the queue, never to take a new one (see lease.lua's queue_caller).</summary>
    public LeaseArguments KeepingPlace()
    {
        var values = (RedisValue[])Values.Clone();
        values[LifetimeArg] = -Math.Abs(QueueLifetimeMs);
        return new LeaseArguments(this, values);
    }

    /// <summary>The same lease given back without telling anyone and without leaving the queue (Redlock: a partial grant).</summary>
    public LeaseArguments Quiet()
    {
        var values = (RedisValue[])Values.Clone();
        values[WaiterArg] = RedisValue.EmptyString;
        values[ModeArg] = LeaseScriptSettings.ModeValue(LeaseMode.Quiet);
        return new LeaseArguments(this, values);
    }
}

/// <summary>What happens to a key's wait queue when its lease goes (lease.lua's ARGV[9]).</summary>
internal enum LeaseMode
{
    /// <summary>The server grants the key to the first live waiter and tells that waiter's process (one primary).</summary>
    Grant,

    /// <summary>The key's waiters are told that it is free and race for it (Redlock).</summary>
    Notify,

    /// <summary>Nobody is told (Redlock giving back a partial grant).</summary>
    Quiet,
}

/// <summary>The script arguments that are the same for every lease of a provider.</summary>
internal sealed class LeaseScriptSettings(long counterRetentionMs, RedisValue publishCommand, ProcessId process)
{
    public static readonly RedisValue NoticeSuffix = RedisKeyspace.NoticeSuffix;
    private static readonly RedisValue s_grant = "grant", s_notify = "notify", s_quiet = "quiet";

    public long CounterRetentionMs { get; } = counterRetentionMs;

    /// <summary>Empty (SPUBLISH where the server has it, else PUBLISH), or a command by name.</summary>
    public RedisValue PublishCommand { get; } = publishCommand;

    /// <summary>The provider's process id as the scripts store and publish it.</summary>
    public RedisValue ProcessId { get; } = process.Value;

    public static RedisValue ModeValue(LeaseMode mode) => mode switch
    {
        LeaseMode.Grant => s_grant,
        LeaseMode.Notify => s_notify,
        _ => s_quiet,
    };
}

/// <summary>
/// The id by which the scripts know one provider's waiters (32 hex digits of 128 random bits): a grant to a waiter of
/// the provider that released the key comes in the release's answer, every other grant as a notice with this id.
/// </summary>
internal sealed class ProcessId
{
    public const int Length = 32;

    public ProcessId()
    {
        Value = System.Text.Encoding.ASCII.GetBytes(OwnerToken.New().ToString("N"));
    }

    public byte[] Value { get; }

    public bool Is(ReadOnlySpan<byte> other) => other.SequenceEqual(Value);
}
