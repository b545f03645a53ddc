using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Locking;

/// <summary>
/// The check behind <see cref="LockingHealthChecksBuilderExtensions.AddLocking"/>: finds the probe of the registered
/// provider's store (named by a <see cref="LockStoreProbeAttribute"/> of the provider's assembly) and runs it.
/// </summary>
internal sealed class LockStoreHealthCheck(IServiceProvider services) : IHealthCheck
{
    private static readonly ConcurrentDictionary<Type, ILockStoreProbe?> s_probes = new();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var provider = services.GetService<ILockProvider>();
        if (provider is null)
        {
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                "No lock store is registered: call services.AddLocking(locking => locking.UseRedis(...)) or UseOrleans().");
        }

        var probe = s_probes.GetOrAdd(provider.GetType(), FindProbe);
        if (probe is null)
        {
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"Locking has no health probe for {provider.GetType().Name}.");
        }

        try
        {
            return await probe.CheckAsync(provider, services, context.Registration.FailureStatus, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The {probe.StoreName} lock store did not answer: {ex.Message}",
                ex,
                new Dictionary<string, object> { ["store"] = probe.StoreName });
        }
    }

    private static ILockStoreProbe? FindProbe(Type providerType)
    {
        foreach (var attribute in providerType.Assembly.GetCustomAttributes<LockStoreProbeAttribute>())
        {
            if (attribute.ProviderType.IsAssignableFrom(providerType))
            {
                return (ILockStoreProbe?)Activator.CreateInstance(attribute.ProbeType);
            }
        }

        return null;
    }
}

/// <summary>Asks one kind of lock store whether it answers.</summary>
internal interface ILockStoreProbe
{
    /// <summary>The store's short name, as in telemetry ("redis", "orleans").</summary>
    string StoreName { get; }

    /// <summary>Asks the store of <paramref name="provider"/>; throws when it cannot be asked at all.</summary>
    Task<HealthCheckResult> CheckAsync(ILockProvider provider, IServiceProvider services, HealthStatus failureStatus, CancellationToken cancellationToken);
}

/// <summary>Names the <see cref="ILockStoreProbe"/> (with a parameterless constructor) of a provider type of this assembly.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
internal sealed class LockStoreProbeAttribute(Type providerType, Type probeType) : Attribute
{
    public Type ProviderType { get; } = providerType;

    public Type ProbeType { get; } = probeType;
}
