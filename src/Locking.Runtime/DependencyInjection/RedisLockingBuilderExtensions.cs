using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Locking;

/// <summary>Chooses Redis as the lease store of <see cref="LockingServiceCollectionExtensions.AddLocking"/>.</summary>
public static class RedisLockingBuilderExtensions
{
    /// <summary>The configuration section the Redis store reads: <c>Locking:Redis</c>.</summary>
    /// <remarks>
    /// <c>Locking:Redis:Configuration</c> is the StackExchange.Redis configuration string; the other keys bind to
    /// <see cref="RedisLockProviderOptions"/> (<c>KeyPrefix</c>, <c>Database</c>, <c>StoreTimeout</c>, <c>FencingCounterRetention</c>).
    /// </remarks>
    public const string ConfigurationSection = "Locking:Redis";

    /// <summary>
    /// Uses a <see cref="RedisLockProvider"/> as the <see cref="ILockProvider"/> singleton.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configuration">
    /// A StackExchange.Redis configuration string ("localhost:6379"); the provider then owns one connection made from it.
    /// When null, an <see cref="IConnectionMultiplexer"/> registered in the container is used, else the string in
    /// <c>Locking:Redis:Configuration</c>.
    /// </param>
    /// <param name="configure">Adjusts the options bound from <c>Locking:Redis</c>, for example <c>o => o with { KeyPrefix = "app:lock:" }</c>.</param>
    public static LockingBuilder UseRedis(this LockingBuilder builder, string? configuration = null, Func<RedisLockProviderOptions, RedisLockProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (configuration is not null && string.IsNullOrWhiteSpace(configuration))
        {
            throw new ArgumentException($"The Redis configuration string must not be blank; it was '{configuration}'.", nameof(configuration));
        }

        builder.Services.AddOptions();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<RedisLockProviderOptions>, BindRedisOptionsFromConfiguration>());
        builder.Services.RemoveAll<OwnedRedisConnection>();
        builder.Services.AddSingleton(services => new OwnedRedisConnection(configuration ?? ConfiguredConnectionString(services)));
        return builder.UseProvider(services =>
        {
            var options = services.GetRequiredService<IOptions<RedisLockProviderOptions>>().Value;
            if (configure is not null)
            {
                options = configure(options) ?? throw new InvalidOperationException("The UseRedis configure function returned null options.");
            }

            var connection = configuration is null && services.GetService<IConnectionMultiplexer>() is { } registered
                ? registered
                : services.GetRequiredService<OwnedRedisConnection>().Connection;
            return new RedisLockProvider(
                connection,
                options,
                services.GetService<ILoggerFactory>()?.CreateLogger<RedisLockProvider>(),
                services.GetService<TimeProvider>());
        });
    }

    private static string ConfiguredConnectionString(IServiceProvider services)
    {
        var value = services.GetService<IConfiguration>()?.GetSection(ConfigurationSection)["Configuration"];
        return string.IsNullOrWhiteSpace(value)
            ? throw new InvalidOperationException(
                $"UseRedis() found no Redis connection: pass a configuration string (UseRedis(\"localhost:6379\")), register an " +
                $"IConnectionMultiplexer, or set {ConfigurationSection}:Configuration.")
            : value;
    }

    /// <summary>Binds <see cref="RedisLockProviderOptions"/> from <c>Locking:Redis</c> when the container has a configuration.</summary>
    private sealed class BindRedisOptionsFromConfiguration(IServiceProvider services) : IConfigureOptions<RedisLockProviderOptions>
    {
        public void Configure(RedisLockProviderOptions options)
        {
            services.GetService<IConfiguration>()?.GetSection(ConfigurationSection).Bind(options);
        }
    }

    /// <summary>The one connection a provider made from a configuration string; disposed with the container.</summary>
    private sealed class OwnedRedisConnection(string configuration) : IAsyncDisposable, IDisposable
    {
        private readonly Lazy<ConnectionMultiplexer> _connection = new(() =>
        {
            var options = ConfigurationOptions.Parse(configuration);
            // Start even if Redis is down: acquires then fail with LockStoreUnavailableException until it is back.
            options.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(options);
        });

        public IConnectionMultiplexer Connection => _connection.Value;

        public void Dispose()
        {
            if (_connection.IsValueCreated)
            {
                _connection.Value.Dispose();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_connection.IsValueCreated)
            {
                await _connection.Value.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
