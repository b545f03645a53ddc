using System.Diagnostics;
using Locking.LoadTest.Libraries;
using Locking.LoadTest.Measurement;

namespace Locking.LoadTest.Cases;

/// <summary>
/// The uncontended loop (one task, acquire + release of one key) while <c>crowd</c> other instances of the same
/// library, each on its own connection, stay connected after each has waited once for that very key: as many idle
/// app instances would be. A store that keeps every instance that ever waited subscribed to a channel every release
/// publishes to pays for the crowd on every release; one that tells only the waiters of a key, and nobody when
/// nobody waits, runs at its uncontended rate.
/// </summary>
internal sealed class CrowdCase(string name, int crowd) : LoadCase
{
    /// <summary>The key the uncontended loop takes (<see cref="ThroughputCase"/>'s first task).</summary>
    private const string Key = "orders/0";

    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    /// <summary>How long the crowd's acquires get to reach the server and start waiting before the key is released.</summary>
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(1);

    private readonly ThroughputCase _loop = new(name, tasks: 1);

    public override string Name => name;

    public override string? ReferenceCase => "uncontended";

    public override string Description =>
        $"the uncontended loop while {crowd} other instances of the library, each on its own connection, stay connected " +
        "after each waited once for the loop's key (an op is a pair)";

    public override async Task<CaseResult> RunAsync<THandle>(LockLibrary<THandle> library, CaseContext context)
    {
        var members = new List<LockLibrary<THandle>>(crowd);
        try
        {
            var connecting = Stopwatch.GetTimestamp();
            for (var i = 0; i < crowd; i++)
            {
                members.Add(await context.ConnectAnotherAsync<THandle>());
            }

            var connected = Stopwatch.GetElapsedTime(connecting);
            var (waited, acquired, took) = await WaitOnceEachAsync(library, members);
            var result = await _loop.RunAsync(library, context);
            result.Notes.Insert(0,
                $"crowd: {members.Count} instances connected in {connected.TotalSeconds:0.0} s; {waited} asked for the key while it was held " +
                $"and {acquired} got it once released, in {took.TotalSeconds:0.0} s");
            if (waited < crowd || acquired < crowd)
            {
                result.Notes.Add($"CROWD INCOMPLETE: {waited} of {crowd} waited, {acquired} of {crowd} acquired");
            }

            return result;
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The measured instance takes the key; every crowd instance asks for it with a wait, and once their requests had
    /// time to arrive the key is released, so each waits, then takes and releases it in turn.
    /// </summary>
    /// <returns>How many asked while the key was held, how many acquired it, and how long the crowd took.</returns>
    private static async Task<(int Waited, int Acquired, TimeSpan Took)> WaitOnceEachAsync<THandle>(LockLibrary<THandle> library, List<LockLibrary<THandle>> members)
        where THandle : class
    {
        library.Configure(TimeSpan.FromSeconds(30), TimeSpan.Zero);
        var held = await library.TryAcquireAsync(Key, CancellationToken.None);
        if (!library.IsAcquired(held))
        {
            throw new InvalidOperationException($"The measured instance could not take '{Key}' before the crowd waited for it.");
        }

        var started = Stopwatch.GetTimestamp();
        long releasedAt = long.MaxValue;
        var waits = members.Select(member => Task.Run(async () =>
        {
            member.Configure(TimeSpan.FromSeconds(30), s_wait);
            var asked = Stopwatch.GetTimestamp();
            var handle = await member.TryAcquireAsync(Key, CancellationToken.None);
            if (!member.IsAcquired(handle))
            {
                if (handle is not null)
                {
                    await member.DiscardAsync(handle);
                }

                return (Acquired: false, Waited: false);
            }

            await member.ReleaseAsync(Key, handle!);
            return (Acquired: true, Waited: asked < Volatile.Read(ref releasedAt));
        })).ToList();

        await Task.Delay(s_settle);
        Volatile.Write(ref releasedAt, Stopwatch.GetTimestamp());
        await library.ReleaseAsync(Key, held!);
        var outcomes = await Task.WhenAll(waits);
        return (outcomes.Count(o => o.Waited), outcomes.Count(o => o.Acquired), Stopwatch.GetElapsedTime(started));
    }
}
