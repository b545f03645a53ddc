using System.Diagnostics;
using System.Globalization;
using Locking.FaultTests.Histories;
using Locking.FaultTests.Resource;
using StackExchange.Redis;

namespace Locking.FaultTests.Processes;

/// <summary>
/// A worker process: loops over acquire, fenced writes to the resource, release, logging every step with the
/// machine's monotonic clock to its own history file. Steered by the nemesis over stdin (see <see cref="WorkerControl"/>);
/// tells it what it waits for over stdout ("ready", "granted", "armed", "idle", ...).
/// </summary>
internal static class WorkerProgram
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var id = arguments.Text("id");
        using var history = new HistoryWriter(arguments.Text("history"), id);
        var settings = new WorkerSettings(
            Keys: arguments.List("keys"),
            Options: new LockOptions
            {
                Ttl = TimeSpan.FromMilliseconds(arguments.Number("ttl-ms")),
                Wait = TimeSpan.FromMilliseconds(arguments.Number("wait-ms")),
                Renew = true,
            },
            WritesPerGrant: arguments.Number("writes", 3),
            WorkMs: arguments.Number("work-ms", 10),
            LongHoldEvery: arguments.Number("long-hold-every", 10),
            CancelWaitsWithinMs: arguments.Number("cancel-waits-within-ms", 0));

        var store = await WorkerStore.ConnectAsync(arguments, history);
        await using var resourceConnection = await ConnectionMultiplexer.ConnectAsync(WorkerStore.SteadyRedisConfiguration(arguments.Text("resource")));
        var resource = new FencedResource(resourceConnection.GetDatabase());
        var control = new WorkerControl(store);
        var worker = new Worker(id, settings, store.Provider, resource, history, control, new Random(arguments.Number("seed")));

        history.Log(EventKind.Started);
        WorkerControl.Say("ready");
        control.Listen();
        await control.BeginRequested;
        await worker.RunAsync();
        history.Log(EventKind.Idle);
        WorkerControl.Say("idle");

        await control.ExitRequested;
        if (store.Calls is { } calls)
        {
            history.Log(EventKind.Calls, detail: calls.ToString(CultureInfo.InvariantCulture));
        }

        await store.DisposeAsync();
        history.Log(EventKind.Disposed);
        WorkerControl.Say("exited");
        return 0;
    }
}

/// <param name="Keys">The lock keys; each turn takes one at random.</param>
/// <param name="Options">Ttl and Wait of every acquire; renewal on.</param>
/// <param name="WritesPerGrant">Fenced writes per grant.</param>
/// <param name="WorkMs">The longest pause between two writes of a grant.</param>
/// <param name="LongHoldEvery">Every so many grants, the writes are spread over about one TTL, so renewals happen.</param>
/// <param name="CancelWaitsWithinMs">When positive, every acquire is cancelled after a random time up to this.</param>
internal sealed record WorkerSettings(string[] Keys, LockOptions Options, int WritesPerGrant, int WorkMs, int LongHoldEvery, int CancelWaitsWithinMs);

internal sealed class Worker(string id, WorkerSettings settings, ILockProvider provider, FencedResource resource, HistoryWriter history, WorkerControl control, Random random)
{
    /// <summary>How often a lingering holder checks its lease and writes.</summary>
    private const int LingerStepMs = 10;

    private int _grants;

    public async Task RunAsync()
    {
        while (!control.Stopping)
        {
            var key = settings.Keys[random.Next(settings.Keys.Length)];
            // A stop ends a wait at once (the nemesis waits for every worker to be idle); so may a random time.
            using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(control.StopToken);
            if (settings.CancelWaitsWithinMs > 0)
            {
                giveUp.CancelAfter(TimeSpan.FromMilliseconds(random.Next(1, settings.CancelWaitsWithinMs + 1)));
            }

            history.Log(EventKind.Acquire, key);
            LockLease? lease;
            try
            {
                lease = await provider.TryAcquireAsync(key, settings.Options, giveUp.Token);
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                history.Log(EventKind.Cancelled, key);
                WorkerControl.Say($"cancelled {key}");
                continue;
            }
            catch (Exception ex) when (ex is LockStoreUnavailableException or OperationCanceledException or TimeoutException)
            {
                // The store did not answer (killed, paused, restarting): the attempt failed, try again soon.
                history.Log(EventKind.Unavailable, key, detail: $"{ex.GetType().Name}: {ex.InnerException?.GetType().Name} {ex.InnerException?.Message ?? ex.Message}");
                await Task.Delay(100);
                continue;
            }

            if (lease is null)
            {
                history.Log(EventKind.Busy, key);
                continue;
            }

            await HoldAsync(key, ++_grants, lease);
        }
    }

    private async Task HoldAsync(string key, int grant, LockLease lease)
    {
        var token = lease.FencingToken;
        history.Log(EventKind.Granted, key, grant, token, $"ttl={settings.Options.Ttl.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}");
        WorkerControl.Say($"granted {key} {grant} {token}");
        using var onLost = lease.LostToken.Register(() =>
        {
            history.Log(EventKind.Lost, key, grant, token);
            WorkerControl.Say($"lost {key} {grant} {token}");
        });
        var longHold = settings.LongHoldEvery > 0 && grant % settings.LongHoldEvery == 0;
        long lingerUntil = 0;
        for (var sequence = 1; sequence <= settings.WritesPerGrant || Stopwatch.GetTimestamp() < lingerUntil; sequence++)
        {
            // The clock is read before the library is asked: the affirmation is logged no later than it was made.
            var asked = Stopwatch.GetTimestamp();
            if (lease.IsLost)
            {
                history.LogAt(asked, EventKind.Gone, key, grant, token);
                break;
            }

            history.LogAt(asked, EventKind.Held, key, grant, token);
            if (control.TakeArm())
            {
                // The nemesis strikes between the check and the write: a pause there is what fencing is for.
                history.Log(EventKind.Armed, key, grant, token);
                WorkerControl.Say($"armed {key} {grant} {token}");
                var lingerMs = await control.WaitForGoAsync();
                if (lingerMs > 0)
                {
                    // Keep holding (checking the lease and writing) for that long: a hold that spans the fault.
                    lingerUntil = Stopwatch.GetTimestamp() + lingerMs * Stopwatch.Frequency / 1000;
                }
            }

            history.Log(EventKind.Write, key, grant, token, sequence.ToString(CultureInfo.InvariantCulture));
            var accepted = await resource.WriteAsync(key, token, id, grant, sequence);
            history.Log(accepted ? EventKind.Accepted : EventKind.Rejected, key, grant, token, sequence.ToString(CultureInfo.InvariantCulture));
            if (!accepted)
            {
                // A later holder has written: this lease is stale, whatever the library still says.
                break;
            }

            var pauseMs = Stopwatch.GetTimestamp() < lingerUntil ? LingerStepMs
                : longHold ? (int)settings.Options.Ttl.TotalMilliseconds / settings.WritesPerGrant
                : random.Next(0, settings.WorkMs + 1);
            if (pauseMs > 0)
            {
                await Task.Delay(pauseMs);
            }
        }

        var releaseAsked = Stopwatch.GetTimestamp();
        var held = !lease.IsLost;
        history.LogAt(releaseAsked, EventKind.Release, key, grant, token, held ? "held" : "lost");
        var releasing = Stopwatch.GetTimestamp();
        await lease.ReleaseAsync();
        var releaseMs = Stopwatch.GetElapsedTime(releasing).TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);
        history.Log(EventKind.Released, key, grant, token, releaseMs);
        WorkerControl.Say($"released {key} {grant} {token} {releaseMs}");
    }
}

/// <summary>
/// What the nemesis tells a worker over stdin: "arm" (at the next write, check the lease, say "armed" and wait for
/// "go" before sending it), "go [linger ms]", "begin" (start the loop), "stop" (finish the current grant and acquire no more), "exit" (dispose the
/// provider and end), "locate KEY", "inspect KEY". The end of stdin (the test process died) counts as stop and exit.
/// </summary>
internal sealed class WorkerControl(WorkerStore store)
{
    private readonly TaskCompletionSource _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _begin = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _armRequested;
    private TaskCompletionSource<int> _go = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Stopping => _stop.IsCancellationRequested;

    /// <summary>Cancelled on "stop".</summary>
    public CancellationToken StopToken => _stop.Token;

    public Task ExitRequested => _exit.Task;

    public Task BeginRequested => _begin.Task;

    private static readonly Lock s_output = new();

    public static void Say(string line)
    {
        lock (s_output)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    public bool TakeArm()
    {
        if (!_armRequested)
        {
            return false;
        }

        _armRequested = false;
        return true;
    }

    /// <summary>Waits for "go [linger ms]"; returns how long to keep holding after the write (0: as usual).</summary>
    public Task<int> WaitForGoAsync() => Volatile.Read(ref _go).Task;

    public void Listen() => _ = Task.Run(ListenAsync);

    private async Task ListenAsync()
    {
        while (await Console.In.ReadLineAsync() is { } line)
        {
            var parts = line.Split(' ', 2);
            switch (parts[0])
            {
                case "begin":
                    _begin.TrySetResult();
                    break;
                case "arm":
                    Volatile.Write(ref _go, new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously));
                    _armRequested = true;
                    break;
                case "go":
                    Volatile.Read(ref _go).TrySetResult(parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 0);
                    break;
                case "stop":
                    _stop.Cancel();
                    break;
                case "exit":
                    _stop.Cancel();
                    _exit.TrySetResult();
                    break;
                case "locate":
                    Say($"located {parts[1]} {await Answer(() => store.LocateAsync(parts[1]))}");
                    break;
                case "inspect":
                    Say($"inspected {parts[1]} {await Answer(() => store.InspectAsync(parts[1]))}");
                    break;
            }
        }

        _stop.Cancel();
        Volatile.Read(ref _go).TrySetResult(0);
        _begin.TrySetResult();
        _exit.TrySetResult();
    }

    private static async Task<string> Answer(Func<Task<string>> ask)
    {
        try
        {
            return await ask();
        }
        catch (Exception ex)
        {
            return $"error {ex.GetType().Name}: {ex.Message}".ReplaceLineEndings(" ");
        }
    }
}
