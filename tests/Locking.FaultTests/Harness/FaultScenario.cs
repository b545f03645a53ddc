using System.Diagnostics;
using System.Globalization;
using Locking.FaultTests.Checking;
using Locking.FaultTests.Histories;
using Locking.FaultTests.Processes;
using Locking.FaultTests.Resource;
using Locking.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Locking.FaultTests.Harness;

/// <summary>How the workers of a scenario reach their lock store.</summary>
/// <param name="Kind">"redis", "redlock" or "orleans".</param>
/// <param name="Endpoints">The Redis endpoint(s); for Orleans, the Redis holding membership and grain storage.</param>
/// <param name="Cluster">The Orleans cluster id, or "-".</param>
public sealed record StoreSpec(string Kind, string Endpoints, string Cluster = "-");

/// <summary>What every worker of a scenario does (see <see cref="WorkerSettings"/>).</summary>
public sealed record WorkerSpec
{
    /// <summary>The lock keys; each turn takes one at random.</summary>
    public required string[] Keys { get; init; }

    /// <summary>The lease TTL; leases renew.</summary>
    public int TtlMs { get; init; } = 1000;

    /// <summary>The longest wait of one acquire.</summary>
    public int WaitMs { get; init; } = 5000;

    /// <summary>Fenced writes per grant.</summary>
    public int WritesPerGrant { get; init; } = 3;

    /// <summary>The longest pause between two writes of a grant.</summary>
    public int WorkMs { get; init; } = 10;

    /// <summary>Every so many grants, the writes spread over about one TTL (0: never).</summary>
    public int LongHoldEvery { get; init; } = 10;

    /// <summary>When positive, each acquire is cancelled after a random time up to this.</summary>
    public int CancelWaitsWithinMs { get; init; }
}

/// <summary>
/// One fault scenario's world: the fenced resource (a redis-server of its own), the worker processes with their
/// history files, the nemesis's own history, and the check at the end. Everything it started is killed when it is
/// disposed; the histories of a failed scenario are kept and their folder printed.
/// </summary>
public sealed class FaultScenario : IAsyncDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly List<ChildProcess> _workers = [];
    private readonly List<ChildProcess> _others = [];
    private readonly ConnectionMultiplexer _resourceConnection;
    private int _grants;
    private int _cancelled;
    private bool _passed;

    private FaultScenario(string name, ITestOutputHelper output, string folder, RedisServer resourceServer, ConnectionMultiplexer resourceConnection)
    {
        Name = name;
        _output = output;
        Folder = folder;
        ResourceServer = resourceServer;
        _resourceConnection = resourceConnection;
        Resource = new FencedResource(resourceConnection.GetDatabase());
        Nemesis = new HistoryWriter(Path.Combine(folder, "nemesis.history"), "nemesis");
    }

    public string Name { get; }

    /// <summary>When the scenario started: the report counts its times from here.</summary>
    public long Origin { get; } = Stopwatch.GetTimestamp();

    /// <summary>Where the histories are written.</summary>
    public string Folder { get; }

    public RedisServer ResourceServer { get; }

    public FencedResource Resource { get; }

    public HistoryWriter Nemesis { get; }

    public IReadOnlyList<ChildProcess> Workers => _workers;

    /// <summary>How many grants the workers reported so far.</summary>
    public int Grants => Volatile.Read(ref _grants);

    /// <summary>How many waits the workers cancelled so far.</summary>
    public int Cancelled => Volatile.Read(ref _cancelled);

    public static async Task<FaultScenario> StartAsync(string name, ITestOutputHelper output)
    {
        var folder = Directory.CreateTempSubdirectory("locking-faults-").FullName;
        var resourceServer = await RedisServer.StartAsync();
        var connection = await ConnectionMultiplexer.ConnectAsync(resourceServer.Configuration(15_000));
        return new FaultScenario(name, output, folder, resourceServer, connection);
    }

    /// <summary>Starts <paramref name="count"/> workers and waits until each says it is ready.</summary>
    public async Task<ChildProcess[]> StartWorkersAsync(int count, StoreSpec store, WorkerSpec spec)
    {
        var started = new List<ChildProcess>();
        for (var i = 0; i < count; i++)
        {
            var id = $"w{_workers.Count + 1}";
            var arguments = Arguments.Format(new Dictionary<string, string>
            {
                ["id"] = id,
                ["store"] = store.Kind,
                ["endpoints"] = store.Endpoints,
                ["cluster"] = store.Cluster,
                ["resource"] = ResourceServer.Endpoint,
                ["history"] = Path.Combine(Folder, id + ".history"),
                ["keys"] = string.Join(',', spec.Keys),
                ["ttl-ms"] = Text(spec.TtlMs),
                ["wait-ms"] = Text(spec.WaitMs),
                ["writes"] = Text(spec.WritesPerGrant),
                ["work-ms"] = Text(spec.WorkMs),
                ["long-hold-every"] = Text(spec.LongHoldEvery),
                ["cancel-waits-within-ms"] = Text(spec.CancelWaitsWithinMs),
                ["seed"] = Text(Random.Shared.Next()),
            });
            var worker = ChildProcess.Start(id, "worker", arguments);
            worker.LineReceived += (_, line) =>
            {
                if (line.StartsWith("granted ", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _grants);
                }
                else if (line.StartsWith("cancelled ", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _cancelled);
                }
            };
            _workers.Add(worker);
            started.Add(worker);
        }

        await Task.WhenAll(started.Select(w => w.WaitForLineAsync(line => line == "ready", "ready", seconds: 120)));
        Step($"{count} workers ready");
        return [.. started];
    }

    /// <summary>Lets every worker started so far begin its loop (after the store's command counts were reset).</summary>
    public void Begin()
    {
        foreach (var worker in _workers)
        {
            worker.Send("begin");
        }
    }

    /// <summary>Starts an Orleans silo process and waits until it is up.</summary>
    public async Task<ChildProcess> StartSiloAsync(string name, string redis, string cluster, int siloPort, int gatewayPort)
    {
        var silo = ChildProcess.Start(name, "silo", Arguments.Format(new Dictionary<string, string>
        {
            ["redis"] = redis,
            ["cluster"] = cluster,
            ["silo-port"] = Text(siloPort),
            ["gateway-port"] = Text(gatewayPort),
        }));
        _others.Add(silo);
        await silo.WaitForLineAsync(line => line.StartsWith("ready", StringComparison.Ordinal), "ready", seconds: 120);
        Step($"{name} ready");
        return silo;
    }

    /// <summary>Waits until the workers reported <paramref name="count"/> grants in all (30 s bound: a liveness failure, not a timing one).</summary>
    public async Task WaitForGrantsAsync(int count, string why, double seconds = 30)
    {
        await Until(() => Grants >= count, $"{count} grants ({why}); {Grants} so far", seconds);
        Step($"{count} grants ({why})");
    }

    /// <summary>Waits until the resource accepted a write with a token above <paramref name="token"/>: a successor held the key and wrote.</summary>
    public async Task WaitForSuccessorWriteAsync(string key, long token, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (await Resource.HighestAsync(key) <= token)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No holder of '{key}' wrote with a token above {token} within {seconds} s (scenario {Name}).");
            }

            await Task.Delay(20);
        }
    }

    public static async Task Until(Func<bool> condition, string what, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {seconds} s for {what}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Arms <paramref name="worker"/>: at its next write it checks its lease, says "armed" and waits for "go". Returns its grant's token.</summary>
    public async Task<(string Key, long Token)> ArmAsync(ChildProcess worker)
    {
        var from = worker.LineCount;
        worker.Send("arm");
        var line = await worker.WaitForLineAsync(l => l.StartsWith("armed ", StringComparison.Ordinal), "armed", from);
        var parts = line.Split(' ');
        return (parts[1], long.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    /// <summary>Notes in the test output how far the scenario got, and when.</summary>
    public void Step(string what) => _output.WriteLine($"[{Stopwatch.GetElapsedTime(Origin).TotalSeconds,6:0.0} s] {what}");

    /// <summary>Logs a fault in the nemesis's history, with the time it was injected.</summary>
    public void Fault(string what)
    {
        Nemesis.Log(EventKind.Fault, detail: what);
        Step("fault: " + what);
    }

    public void Healed(string what)
    {
        Nemesis.Log(EventKind.Healed, detail: what);
        Step("healed: " + what);
    }

    /// <summary>Tells every live worker to stop acquiring and waits until each holds nothing.</summary>
    public async Task StopWorkersAsync()
    {
        var live = _workers.Where(w => !w.HasExited).ToArray();
        foreach (var worker in live)
        {
            worker.Send("stop");
        }

        await Task.WhenAll(live.Select(w => w.WaitForLineAsync(line => line == "idle", "idle")));
        Step("workers idle");
    }

    /// <summary>Asks a live worker an Orleans question ("locate KEY", "inspect KEY") and returns its answer.</summary>
    public async Task<string> AskAsync(string question, string answerPrefix)
    {
        var worker = _workers.First(w => !w.HasExited);
        var from = worker.LineCount;
        worker.Send(question);
        var line = await worker.WaitForLineAsync(l => l.StartsWith(answerPrefix, StringComparison.Ordinal), answerPrefix, from);
        return line[answerPrefix.Length..].Trim();
    }

    /// <summary>Tells every live worker to dispose its provider and end; each must exit cleanly.</summary>
    public async Task ExitWorkersAsync()
    {
        var live = _workers.Where(w => !w.HasExited).ToArray();
        foreach (var worker in live)
        {
            worker.Send("exit");
        }

        foreach (var worker in live)
        {
            var code = await worker.WaitForExitAsync();
            Assert.True(code == 0, $"{worker.Name} exited with code {code}: {worker.Errors}");
        }

        Step("workers exited");
    }

    /// <summary>
    /// Lock keys still in the Redis stores after every worker went idle, looked at until none is left or
    /// <paramref name="settleMs"/> passed. With a settle time longer than the TTL, a key set before the workers went
    /// idle has expired by then: a key still there is kept by a lease the library forgot (no expiry, or renewed for a
    /// caller it never handed it to). With a TTL much longer than the settle time, a key still there is also a grant
    /// that was neither handed out nor given back.
    /// </summary>
    public static async Task<IReadOnlyList<LeakedKey>> LeakedRedisKeysAsync(IEnumerable<RedisServer> stores, int settleMs, int ttlMs)
    {
        var connections = new List<(RedisServer Store, ConnectionMultiplexer Connection)>();
        try
        {
            foreach (var store in stores)
            {
                connections.Add((store, await ConnectionMultiplexer.ConnectAsync(store.Configuration(15_000))));
            }

            var deadline = DateTime.UtcNow.AddMilliseconds(settleMs);
            while (true)
            {
                var leaked = new List<LeakedKey>();
                foreach (var (store, connection) in connections)
                {
                    var server = connection.GetServer(store.Endpoint);
                    await foreach (var key in server.KeysAsync(pattern: WorkerStore.KeyPrefix + "*"))
                    {
                        if (!((string)key!).EndsWith(":fence", StringComparison.Ordinal))
                        {
                            var seen = Stopwatch.GetTimestamp();
                            var ttl = await connection.GetDatabase().KeyTimeToLiveAsync(key);
                            leaked.Add(new LeakedKey(
                                $"{store.Endpoint} {key} (ttl {(ttl is { } t ? $"{t.TotalMilliseconds:0} ms" : "none")})",
                                ttl is { } left ? seen - (long)((ttlMs - left.TotalMilliseconds) * Stopwatch.Frequency / 1000) : null));
                        }
                    }
                }

                if (leaked.Count == 0 || DateTime.UtcNow > deadline)
                {
                    return leaked;
                }

                await Task.Delay(50);
            }
        }
        finally
        {
            foreach (var (_, connection) in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>Reads every history and the resource's log and runs the checker; prints the report.</summary>
    public async Task<ScenarioReport> CheckAsync(IEnumerable<string> keys, IReadOnlyList<LeakedKey> leakedKeys, Func<int, StoreLoad> storeLoad)
    {
        var history = Directory.GetFiles(Folder, "*.history").SelectMany(HistoryWriter.Read).ToArray();
        var resource = new Dictionary<string, IReadOnlyList<ResourceWrite>>();
        foreach (var key in keys)
        {
            resource[key] = await Resource.ReadLogAsync(key);
        }

        var grants = history.Count(e => e.Kind == EventKind.Granted);
        var report = Checker.Check(Name, Origin, history, resource, leakedKeys, storeLoad(grants));
        _output.WriteLine(report.ToString());
        _output.WriteLine($"histories: {Folder}");
        File.WriteAllText(Path.Combine(Folder, "report.txt"), report.ToString());
        return report;
    }

    /// <summary>Orleans grain calls per grant, from the workers' own counts.</summary>
    public StoreLoad GrainCallsPerGrant(int grants)
    {
        var calls = Directory.GetFiles(Folder, "w*.history").SelectMany(HistoryWriter.Read)
            .Where(e => e.Kind == EventKind.Calls).Sum(e => long.Parse(e.Detail, CultureInfo.InvariantCulture));
        var perGrant = grants == 0 ? 0 : calls / (double)grants;
        return new StoreLoad($"{perGrant:0.0} lock grain calls ({calls:N0} in all, counted by the clients alive at the end)", [perGrant]);
    }

    /// <summary>Marks the scenario passed: its histories are deleted when it is disposed.</summary>
    public void Passed() => _passed = true;

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _workers.Concat(_others))
        {
            await process.DisposeAsync();
        }

        Nemesis.Dispose();
        await _resourceConnection.DisposeAsync();
        await ResourceServer.DisposeAsync();
        if (_passed)
        {
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
        else
        {
            _output.WriteLine($"The histories of this scenario are kept in {Folder}");
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
