using Locking.FaultTests.Histories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using StackExchange.Redis;

namespace Locking.FaultTests.Processes;

/// <summary>The lock store a worker talks to, through the library's public providers only.</summary>
internal abstract class WorkerStore : IAsyncDisposable
{
    public abstract ILockProvider Provider { get; }

    /// <summary>How many calls the worker made to the store, where the worker can count them (grain calls).</summary>
    public virtual long? Calls => null;

    /// <summary>Where the store keeps <paramref name="key"/> now (the silo port of an Orleans lock grain).</summary>
    public virtual Task<string> LocateAsync(string key) => throw new NotSupportedException("Only an Orleans store places keys.");

    /// <summary>Whether the store holds <paramref name="key"/> for anybody now, as the store itself says.</summary>
    public virtual Task<string> InspectAsync(string key) => throw new NotSupportedException("Only an Orleans store is inspected through the worker.");

    /// <summary>Disposes the provider (which must release what it holds) and then the connections.</summary>
    public abstract ValueTask DisposeAsync();

    /// <summary>The prefix of every Redis lock key of the scenarios.</summary>
    public const string KeyPrefix = "fault:";

    public static async Task<WorkerStore> ConnectAsync(Arguments arguments, HistoryWriter history) => arguments.Text("store") switch
    {
        "redis" => await RedisStore.ConnectAsync(arguments.List("endpoints"), history),
        "redlock" => await RedisStore.ConnectAsync(arguments.List("endpoints"), history),
        "orleans" => await OrleansStore.ConnectAsync(arguments.Text("endpoints"), arguments.Text("cluster"), history),
        var other => throw new ArgumentException($"Unknown store '{other}': expected redis, redlock or orleans."),
    };

    /// <summary>
    /// For a lock store the nemesis strikes: short timeouts, as the test servers' own configuration, so a dead
    /// server shows up in seconds.
    /// </summary>
    public static ConfigurationOptions RedisConfiguration(string endpoint) => new()
    {
        EndPoints = { endpoint },
        AbortOnConnectFail = false,
        ConnectTimeout = 2000,
        SyncTimeout = 2000,
        AsyncTimeout = 2000,
        ConnectRetry = 1,
        ReconnectRetryPolicy = new LinearRetry(100),
    };

    /// <summary>
    /// For a server no fault touches (the resource, Orleans membership and grain storage): generous timeouts, so
    /// a machine too busy to answer in 2 s slows the scenario down instead of failing it.
    /// </summary>
    public static ConfigurationOptions SteadyRedisConfiguration(string endpoint) => new()
    {
        EndPoints = { endpoint },
        AbortOnConnectFail = false,
        ConnectTimeout = 15_000,
        SyncTimeout = 15_000,
        AsyncTimeout = 15_000,
        ConnectRetry = 5,
    };

    private sealed class RedisStore(ConnectionMultiplexer[] connections, RedisLockProvider provider) : WorkerStore
    {
        public override ILockProvider Provider => provider;

        public static async Task<WorkerStore> ConnectAsync(string[] endpoints, HistoryWriter history)
        {
            var connections = await Task.WhenAll(endpoints.Select(endpoint => ConnectionMultiplexer.ConnectAsync(RedisConfiguration(endpoint))));
            var options = new RedisLockProviderOptions { KeyPrefix = KeyPrefix };
            // One endpoint: a single store. Several: independent primaries under the Redlock quorum.
            var provider = connections.Length == 1
                ? new RedisLockProvider(connections[0], options, new HistoryLogger<RedisLockProvider>(history))
                : new RedisLockProvider(connections, options, new HistoryLogger<RedisLockProvider>(history));
            return new RedisStore(connections, provider);
        }

        public override async ValueTask DisposeAsync()
        {
            await provider.DisposeAsync();
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private sealed class OrleansStore(IHost host, OrleansLockProvider provider, LockGrainCalls calls) : WorkerStore
    {
        public override ILockProvider Provider => provider;

        public override long? Calls => calls.Count;

        public static async Task<WorkerStore> ConnectAsync(string redis, string cluster, HistoryWriter history)
        {
            var calls = new LockGrainCalls();
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
            builder.Logging.ClearProviders();
            builder.UseOrleansClient(client => client
                .Configure<ClusterOptions>(options => (options.ClusterId, options.ServiceId) = (cluster, cluster))
                .Configure<GatewayOptions>(options => options.GatewayListRefreshPeriod = TimeSpan.FromSeconds(1))
                .UseRedisClustering(options => options.ConfigurationOptions = SteadyRedisConfiguration(redis))
                .AddOutgoingGrainCallFilter(calls.CountAsync));
            var host = builder.Build();
            await host.StartAsync();
            var provider = new OrleansLockProvider(host.Services.GetRequiredService<IClusterClient>(), logger: new HistoryLogger<OrleansLockProvider>(history));
            return new OrleansStore(host, provider, calls);
        }

        public override async Task<string> LocateAsync(string key)
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            var silo = await client.GetGrain<IManagementGrain>(0).GetActivationAddress(client.GetGrain<ILockGrain>(key));
            return silo is null ? "none" : silo.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        public override async Task<string> InspectAsync(string key)
        {
            var client = host.Services.GetRequiredService<IClusterClient>();
            var snapshot = await client.GetGrain<ILockGrain>(key).InspectAsync();
            // Held means a holder whose lease has not yet ended by the grain's own clock.
            var held = snapshot.Holder is not null && snapshot.ExpiresAt > DateTimeOffset.UtcNow;
            return held ? $"held token {snapshot.FencingToken} until {snapshot.ExpiresAt:O}" : "free";
        }

        public override async ValueTask DisposeAsync()
        {
            await provider.DisposeAsync();
            await host.StopAsync();
            host.Dispose();
        }
    }

    /// <summary>Counts this client's calls to lock grains.</summary>
    private sealed class LockGrainCalls
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public Task CountAsync(IOutgoingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(ILockGrain))
            {
                Interlocked.Increment(ref _count);
            }

            return context.Invoke();
        }
    }
}
