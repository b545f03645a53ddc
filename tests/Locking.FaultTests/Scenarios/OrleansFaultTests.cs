using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Locking.FaultTests.Checking;
using Locking.FaultTests.Harness;
using Locking.Testing;
using Xunit.Abstractions;

namespace Locking.FaultTests.Scenarios;

/// <summary>
/// Faults against Orleans lock grains: three silo processes with Redis membership and Redis grain storage (as in
/// samples/Locking.Cluster), three client processes; the silo that hosts the lock grain is killed while a lease is held.
/// </summary>
public sealed class OrleansFaultTests(ITestOutputHelper output)
{
    private const int TtlMs = 3000;

    [Fact]
    public async Task Killing_the_silo_that_hosts_a_lock_grain_never_yields_two_holders()
    {
        await using var scenario = await FaultScenario.StartAsync("Orleans, the silo hosting the lock grain killed (SIGKILL)", output);
        await using var redis = await RedisServer.StartAsync();
        var cluster = $"faults-{Guid.NewGuid():N}";
        var silos = new ConcurrentDictionary<int, ChildProcess>();
        async Task StartSiloAsync(int number)
        {
            var (siloPort, gatewayPort) = (FreePort(), FreePort());
            silos[siloPort] = await scenario.StartSiloAsync($"silo{number}", redis.Endpoint, cluster, siloPort, gatewayPort);
        }

        // The clients need one gateway to connect; they learn of the others from the membership table.
        await StartSiloAsync(1);
        var spec = new WorkerSpec { Keys = ["silo-killed"], TtlMs = TtlMs, LongHoldEvery = 20 };
        var starting = scenario.StartWorkersAsync(3, new StoreSpec("orleans", redis.Endpoint, cluster), spec);
        await Task.WhenAll(StartSiloAsync(2), StartSiloAsync(3));
        var workers = await starting;
        scenario.Begin();
        await scenario.WaitForGrantsAsync(10, "warm-up", seconds: 60);

        for (var round = 0; round < 2; round++)
        {
            // The holder holds across the kill: its renewals must reach the grain's next activation, or it learns of
            // the loss; either way nobody else may be told "held" before its lease ended.
            var victim = workers[round];
            var (key, token) = await scenario.ArmAsync(victim);
            var port = await LocateAsync(scenario, key, silos);
            silos[port].Kill();
            silos.TryRemove(port, out _);
            scenario.Fault($"kill silo {port} hosting the grain while {victim.Name} holds token {token}");
            victim.Send($"go {TtlMs * 2}");
            await scenario.WaitForGrantsAsync(scenario.Grants + 5, $"after silo {port} was killed", seconds: 60);
        }

        await scenario.StopWorkersAsync();
        var leaked = await LeakedGrainsAsync(scenario, spec.Keys);
        await scenario.ExitWorkersAsync();
        var report = await scenario.CheckAsync(spec.Keys, leaked, scenario.GrainCallsPerGrant);
        ScenarioSteps.AssertSafe(report, storeKeptItsData: true);
        scenario.Passed();
    }

    /// <summary>
    /// Keys whose grain still reports a live holder once every worker is idle and a TTL plus the grains' clock skew
    /// (1 s) has passed: a lease the library forgot, or keeps renewing for nobody.
    /// </summary>
    private static async Task<IReadOnlyList<LeakedKey>> LeakedGrainsAsync(FaultScenario scenario, string[] keys)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(TtlMs + 2000);
        while (true)
        {
            var leaked = new List<LeakedKey>();
            foreach (var key in keys)
            {
                var state = await scenario.AskAsync($"inspect {key}", $"inspected {key}");
                if (state != "free")
                {
                    leaked.Add(new LeakedKey($"{key}: {state}", null));
                }
            }

            if (leaked.Count == 0 || DateTime.UtcNow > deadline)
            {
                return leaked;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The port of the live silo that hosts <paramref name="key"/>'s grain. The grain directory is only eventually
    /// consistent: a silo killed a moment ago may still be named, so ask again until a live one is.
    /// </summary>
    private static async Task<int> LocateAsync(FaultScenario scenario, string key, ConcurrentDictionary<int, ChildProcess> silos)
    {
        var answers = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var located = await scenario.AskAsync($"locate {key}", $"located {key}");
            if (int.TryParse(located, out var port) && silos.ContainsKey(port))
            {
                return port;
            }

            answers.Add(located);
            await Task.Delay(100);
        }

        throw new TimeoutException($"The lock grain of '{key}' was on no live silo for 30 s: {string.Join(", ", answers.Distinct())}.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
