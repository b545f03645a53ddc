using StackExchange.Redis;
using Locking.FaultTests.Harness;
using Locking.Testing;
using Xunit.Abstractions;

namespace Locking.FaultTests.Scenarios;

/// <summary>
/// Faults against Redlock on three independent Redis primaries: one master at a time is paused or loses its data,
/// so a majority always keeps its data and the library must never tell two holders "held" at once.
/// </summary>
public sealed class RedlockFaultTests(ITestOutputHelper output)
{
    private const int TtlMs = 1000;

    [Fact]
    public async Task A_paused_minority_of_masters_never_yields_two_holders()
    {
        await using var scenario = await FaultScenario.StartAsync("Redlock, one of three masters paused (SIGSTOP) at a time", output);
        await using var masters = await Masters.StartAsync();
        var spec = new WorkerSpec { Keys = ["minority-paused"], TtlMs = TtlMs };
        var workers = await scenario.StartWorkersAsync(3, new StoreSpec("redlock", masters.Endpoints), spec);
        await masters.CollectAsync();
        scenario.Begin();
        await scenario.WaitForGrantsAsync(10, "warm-up");

        for (var m = 0; m < 3; m++)
        {
            // A holder holds across the pause: its renewals must go on with the majority.
            var victim = workers[m];
            var (_, token) = await scenario.ArmAsync(victim);
            masters.Servers[m].Pause();
            scenario.Fault($"pause master {m} while {victim.Name} holds token {token}");
            victim.Send($"go {TtlMs * 2}");
            await scenario.WaitForGrantsAsync(scenario.Grants + 5, $"while master {m} was paused (a majority was up)");
            masters.Servers[m].Resume();
            scenario.Healed($"resume master {m}");
            await scenario.WaitForGrantsAsync(scenario.Grants + 5, $"after master {m} resumed");
        }

        var report = await ScenarioSteps.FinishOnRedisAsync(scenario, masters.Commands, spec, settleMs: TtlMs + 250);
        ScenarioSteps.AssertSafe(report, storeKeptItsData: true);
        scenario.Passed();
    }

    [Fact]
    public async Task A_master_killed_and_restarted_empty_never_yields_two_holders()
    {
        // A longer TTL: a holder renews every TTL/3, so a holder that lost a master's record goes on being told "held"
        // for a while after the restart; a library that lets another holder in meanwhile is caught in that window.
        const int ttlMs = 3000;
        await using var scenario = await FaultScenario.StartAsync("Redlock, one of three masters killed and restarted empty at a time", output);
        await using var masters = await Masters.StartAsync();
        var spec = new WorkerSpec { Keys = ["master-restarted"], TtlMs = ttlMs, LongHoldEvery = 20 };
        var workers = await scenario.StartWorkersAsync(4, new StoreSpec("redlock", masters.Endpoints), spec);
        await masters.CollectAsync();
        scenario.Begin();
        await scenario.WaitForGrantsAsync(10, "warm-up");

        for (var round = 0; round < 3; round++)
        {
            // A holder holds across the restart, and the two masters that keep its lease are a majority: the promise
            // of Redlock. (Under contention a rival may have taken one master's grant first, so the holder holds a bare
            // majority; restarting one of those two empty is the loss of a majority, which only a restart delayed by
            // a TTL can make safe: see docs/safety.md.)
            var victim = workers[round];
            var (_, token) = await scenario.ArmAsync(victim);
            var m = await masters.OneWhoseLossLeavesAMajorityAsync("fault:{master-restarted}", round);
            await masters.Commands[m].CollectAsync();
            scenario.Fault($"kill master {m} while {victim.Name} holds token {token}");
            await masters.Servers[m].RestartAsync();
            scenario.Healed($"master {m} restarted empty");
            victim.Send($"go {ttlMs}");
            await scenario.WaitForGrantsAsync(scenario.Grants + 10, $"after master {m} restarted");
        }

        var report = await ScenarioSteps.FinishOnRedisAsync(scenario, masters.Commands, spec, settleMs: ttlMs + 250);
        ScenarioSteps.AssertSafe(report, storeKeptItsData: true);
        scenario.Passed();
    }

    /// <summary>Three independent redis-server primaries and their command counts.</summary>
    private sealed class Masters : IAsyncDisposable
    {
        private Masters(RedisServer[] servers)
        {
            Servers = servers;
            Commands = servers.Select(s => new StoreCommands(s)).ToArray();
        }

        public RedisServer[] Servers { get; }

        public StoreCommands[] Commands { get; }

        public string Endpoints => string.Join(',', Servers.Select(s => s.Endpoint));

        public static async Task<Masters> StartAsync()
        {
            var servers = new List<RedisServer>();
            try
            {
                for (var i = 0; i < 3; i++)
                {
                    servers.Add(await RedisServer.StartAsync());
                }

                return new Masters([.. servers]);
            }
            catch
            {
                foreach (var server in servers)
                {
                    await server.DisposeAsync();
                }

                throw;
            }
        }

        /// <summary>
        /// A master whose loss leaves the holder's lease on <paramref name="lockKey"/> on the two others: <paramref name="preferred"/>
        /// once the lease stands on all three (a grant that answered after the quorum lands within moments), else the one
        /// master outside the holder's majority.
        /// </summary>
        public async Task<int> OneWhoseLossLeavesAMajorityAsync(string lockKey, int preferred)
        {
            var connections = new List<ConnectionMultiplexer>();
            try
            {
                foreach (var server in Servers)
                {
                    connections.Add(await server.ConnectAsync());
                }

                var values = new RedisValue[Servers.Length];
                for (var look = 0; look < 40; look++)
                {
                    for (var i = 0; i < Servers.Length; i++)
                    {
                        values[i] = await connections[i].GetDatabase().StringGetAsync(lockKey);
                    }

                    if (values.All(value => !value.IsNull && value == values[0]))
                    {
                        return preferred;
                    }

                    await Task.Delay(50);
                }

                var holder = values.Where(value => !value.IsNull).GroupBy(value => value).OrderByDescending(group => group.Count()).First().Key;
                return Array.FindIndex(values, value => value != holder);
            }
            finally
            {
                foreach (var connection in connections)
                {
                    await connection.DisposeAsync();
                }
            }
        }

        public async Task CollectAsync()
        {
            foreach (var commands in Commands)
            {
                await commands.CollectAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var server in Servers)
            {
                await server.DisposeAsync();
            }
        }
    }
}
