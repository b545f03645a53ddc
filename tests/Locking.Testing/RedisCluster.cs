using StackExchange.Redis;

namespace Locking.Testing;

/// <summary>
/// A real Redis Cluster of independent redis-server processes (primaries only, no replicas) on free loopback
/// ports, its 16,384 hash slots split evenly between them.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private const int SlotCount = 16384;

    private readonly RedisServer[] _nodes;

    private RedisCluster(RedisServer[] nodes) => _nodes = nodes;

    /// <summary>The cluster's nodes.</summary>
    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>Starts <paramref name="primaries"/> cluster-enabled servers, gives each a share of the slots and joins them.</summary>
    public static async Task<RedisCluster> StartAsync(int primaries = 3)
    {
        var nodes = new List<RedisServer>();
        try
        {
            for (var i = 0; i < primaries; i++)
            {
                // nodes.conf lands in each server's own temporary directory.
                nodes.Add(await RedisServer.StartAsync(false, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"));
            }

            var cluster = new RedisCluster([.. nodes]);
            await cluster.FormAsync();
            return cluster;
        }
        catch
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>A configuration listing every node, with short timeouts.</summary>
    public ConfigurationOptions Configuration(int timeoutMs = 2000)
    {
        var configuration = _nodes[0].Configuration(timeoutMs);
        foreach (var node in _nodes.Skip(1))
        {
            configuration.EndPoints.Add(node.Endpoint);
        }

        return configuration;
    }

    /// <summary>Connects a new multiplexer to the cluster.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync(int timeoutMs = 2000) => ConnectionMultiplexer.ConnectAsync(Configuration(timeoutMs));

    private async Task FormAsync()
    {
        var admins = new List<ConnectionMultiplexer>();
        try
        {
            foreach (var node in _nodes)
            {
                var configuration = node.Configuration(5000);
                configuration.AllowAdmin = true;
                admins.Add(await ConnectionMultiplexer.ConnectAsync(configuration));
            }

            for (var i = 0; i < _nodes.Length; i++)
            {
                var first = SlotCount * i / _nodes.Length;
                var last = SlotCount * (i + 1) / _nodes.Length - 1;
                var slots = Enumerable.Range(first, last - first + 1).Cast<object>().Prepend("ADDSLOTS").ToArray();
                await Server(admins[i], _nodes[i]).ExecuteAsync("CLUSTER", slots);
            }

            for (var i = 1; i < _nodes.Length; i++)
            {
                await Server(admins[0], _nodes[0]).ExecuteAsync("CLUSTER", "MEET", "127.0.0.1", _nodes[i].Port);
            }

            // Joined when every node says the cluster is ok and knows every other node.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                var ready = true;
                for (var i = 0; i < _nodes.Length && ready; i++)
                {
                    var info = (string?)await Server(admins[i], _nodes[i]).ExecuteAsync("CLUSTER", "INFO") ?? "";
                    ready = info.Contains("cluster_state:ok", StringComparison.Ordinal)
                        && info.Contains($"cluster_known_nodes:{_nodes.Length}", StringComparison.Ordinal);
                }

                if (ready)
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"The {_nodes.Length} redis-server nodes did not form a cluster within 30 s.");
                }

                await Task.Delay(100);
            }
        }
        finally
        {
            foreach (var admin in admins)
            {
                await admin.DisposeAsync();
            }
        }
    }

    private static IServer Server(ConnectionMultiplexer admin, RedisServer node) => admin.GetServer(node.Endpoint);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
