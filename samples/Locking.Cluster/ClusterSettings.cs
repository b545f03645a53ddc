using Orleans.Configuration;
using StackExchange.Redis;

namespace Locking.Cluster;

/// <summary>What every process of the sample agrees on.</summary>
internal static class ClusterSettings
{
    public const string ClusterId = "locking-sample";
    public const string ServiceId = "locking-sample";

    /// <summary>The grain storage the lock grains persist their records in.</summary>
    public const string LockStorage = "locks";

    public static ConfigurationOptions Redis(string endpoint)
    {
        var options = ConfigurationOptions.Parse(endpoint);
        options.AbortOnConnectFail = false;
        return options;
    }

    public static void Cluster(ClusterOptions options)
    {
        options.ClusterId = ClusterId;
        options.ServiceId = ServiceId;
    }

    /// <summary>
    /// Faster failure detection than Orleans' defaults (which take about a minute), so that the silo run.sh kills
    /// is declared dead within a few seconds and its lock grains move while the clients keep working.
    /// </summary>
    public static void Membership(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = TimeSpan.FromSeconds(1);
        options.NumMissedProbesLimit = 2;
        options.NumVotesForDeathDeclaration = 1;
        options.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
    }
}
