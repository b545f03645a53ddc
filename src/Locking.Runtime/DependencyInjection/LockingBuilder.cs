using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Locking;

/// <summary>
/// Chooses the lease store of <see cref="LockingServiceCollectionExtensions.AddLocking"/>: <c>UseRedis(...)</c> here,
/// <c>UseOrleans()</c> in the Orleans package, or <see cref="UseProvider{TProvider}"/> for any other store.
/// </summary>
public sealed class LockingBuilder
{
    /// <summary>Creates the builder over <paramref name="services"/>.</summary>
    public LockingBuilder(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        Services = services;
    }

    /// <summary>The service collection the store is registered in.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Registers <typeparamref name="TProvider"/> as a singleton and as the <see cref="ILockProvider"/>, replacing a
    /// store chosen before.
    /// </summary>
    public LockingBuilder UseProvider<TProvider>(Func<IServiceProvider, TProvider> factory)
        where TProvider : class, ILockProvider
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.RemoveAll<TProvider>();
        Services.AddSingleton(services => WithTelemetryOptions(factory(services), services));
        Services.Replace(ServiceDescriptor.Singleton<ILockProvider>(static services => services.GetRequiredService<TProvider>()));
        return this;
    }

    /// <summary>
    /// Adjusts what the store's logs and traces record, for example
    /// <c>locking.ConfigureTelemetry(telemetry => telemetry.IncludeKeys = false)</c> when lock keys carry personal data.
    /// </summary>
    public LockingBuilder ConfigureTelemetry(Action<LockingTelemetryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.AddOptions();
        Services.Configure(configure);
        return this;
    }

    private static TProvider WithTelemetryOptions<TProvider>(TProvider provider, IServiceProvider services)
    {
        if (provider is LockProvider managed && services.GetService<IOptions<LockingTelemetryOptions>>() is { } options)
        {
            managed.IncludeKeysInTelemetry = options.Value.IncludeKeys;
        }

        return provider;
    }
}

/// <summary>Registers Locking in a service collection.</summary>
public static class LockingServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="ILockProvider"/> singleton, configured by <paramref name="configure"/>, for example
    /// <c>services.AddLocking(locking => locking.UseRedis("localhost:6379"))</c>.
    /// </summary>
    public static IServiceCollection AddLocking(this IServiceCollection services, Action<LockingBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new LockingBuilder(services);
        configure(builder);
        if (!services.Any(static service => service.ServiceType == typeof(ILockProvider)))
        {
            throw new InvalidOperationException(
                "AddLocking registered no lock store: call UseRedis(...) or UseOrleans() on the builder, for example " +
                "services.AddLocking(locking => locking.UseRedis(\"localhost:6379\")).");
        }

        return services;
    }
}
