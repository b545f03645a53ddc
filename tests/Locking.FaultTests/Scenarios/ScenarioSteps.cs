using Locking.FaultTests.Checking;
using Locking.FaultTests.Harness;

// Scenarios run one at a time: each starts its own servers and processes, and two at once would only slow each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Locking.FaultTests.Scenarios;

/// <summary>The steps and checks every scenario shares.</summary>
internal static class ScenarioSteps
{
    /// <summary>
    /// Stops the workers, counts the store's commands, looks for leaked keys (up to <paramref name="settleMs"/>),
    /// lets the workers exit and checks the histories.
    /// </summary>
    public static async Task<ScenarioReport> FinishOnRedisAsync(FaultScenario scenario, IReadOnlyList<StoreCommands> stores, WorkerSpec spec, int settleMs)
    {
        await scenario.StopWorkersAsync();
        foreach (var store in stores)
        {
            await store.CollectAsync();
        }

        var leaked = await FaultScenario.LeakedRedisKeysAsync(stores.Select(s => s.Server), settleMs, spec.TtlMs);
        await scenario.ExitWorkersAsync();
        return await scenario.CheckAsync(spec.Keys, leaked, grants => new StoreLoad(
            string.Join("; ", stores.Select(s => s.PerGrant(grants))),
            [.. stores.Select(s => s.RequestsPerGrant(grants))]));
    }

    /// <summary>
    /// The most requests a store (each Redlock master) may see per grant: "tens, not thousands". Waiters woken by the
    /// release, not by polling, ask about once or twice per grant each; renewals and releases add a few more.
    /// </summary>
    public const double MaxRequestsPerGrant = 50;

    /// <summary>
    /// What must hold under every fault: some grants, no stale write accepted, fencing tokens in order, no leaked
    /// key, a grant after every fault, a bounded number of store requests per grant; and no two holds the library
    /// believed valid at once where the store kept its data (<paramref name="storeKeptItsData"/>).
    /// </summary>
    public static void AssertSafe(ScenarioReport report, bool storeKeptItsData)
    {
        Assert.True(report.ClockInconsistencies.Count == 0, $"The processes do not share one monotonic clock: their histories cannot be merged.\n{report}");
        Assert.True(report.Grants.Count > 0, $"No grants at all.\n{report}");
        Assert.True(report.StaleWritesAccepted.Count == 0, $"The resource accepted stale writes.\n{report}");
        Assert.True(report.FencingOrderViolations.Count == 0, $"Fencing tokens out of order.\n{report}");
        if (storeKeptItsData)
        {
            Assert.True(report.Overlaps.Count == 0, $"The library told two holders 'held' at the same time.\n{report}");
        }

        Assert.True(report.LeakedKeys.Count == 0, $"Keys leaked.\n{report}");
        Assert.True(report.UnusableAfterFault.All(u => u.NextGrantMs is not null), $"A fault was followed by no grant.\n{report}");
        Assert.True(report.StoreLoad.RequestsPerGrant.All(perGrant => perGrant <= MaxRequestsPerGrant),
            $"Waiters asked a store more than {MaxRequestsPerGrant} times per grant: polling, not waiting.\n{report}");
    }

    /// <summary>The grant of <paramref name="worker"/> with <paramref name="token"/> learned it was lost.</summary>
    public static void AssertLearnedOfLoss(ScenarioReport report, string worker, long token)
    {
        var grant = report.Grants.Single(g => g.Worker == worker && g.Token == token);
        Assert.True(grant.SeenLost, $"{grant} never learned that its lease was lost.\n{report}");
    }
}
