using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Storage;

namespace Locking;

/// <summary>Hosts the lock grains in a silo.</summary>
public static class LockGrainsSiloBuilderExtensions
{
    /// <summary>
    /// Adds the lock grains with in-memory grain storage: the embedded default, for a single silo whose lease
    /// holders live in its own process. Nothing to install:
    /// <code>
    /// builder.UseOrleans(silo => silo.UseLocalhostClustering().AddLockGrains());
    /// builder.Services.AddLocking(locking => locking.UseOrleans());
    /// </code>
    /// Memory records die with their silo; the grains then seed fencing tokens from the clock (they never restart)
    /// and, after a silo left a multi-silo cluster, wait out <see cref="LockGrainOptions.EffectiveLockDelay"/> before
    /// granting a key whose record is gone. For a cluster, give a durable storage with the overload that takes its name.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Adjusts the grain options (TTL cap, clock skew, lock-delay).</param>
    public static ISiloBuilder AddLockGrains(this ISiloBuilder builder, Action<LockGrainOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMemoryGrainStorage(LockGrainOptions.StorageName);
        return AddLockGrainsCore(builder, LockRecordLoss.SiloDeparture, configure);
    }

    /// <summary>
    /// Adds the lock grains on the grain storage registered as <paramref name="storageName"/> (for a cluster, a
    /// durable one, e.g. <c>silo.AddRedisGrainStorage("locks", ...)</c>). The storage must keep ETags linearizable.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="storageName">The name the grain storage was registered under.</param>
    /// <param name="configure">Adjusts the grain options (TTL cap, clock skew, lock-delay).</param>
    public static ISiloBuilder AddLockGrains(this ISiloBuilder builder, string storageName, Action<LockGrainOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (string.IsNullOrWhiteSpace(storageName))
        {
            throw new ArgumentException($"The grain storage name must not be empty; it was '{storageName}'.", nameof(storageName));
        }

        if (storageName != LockGrainOptions.StorageName)
        {
            // The grain names its storage statically: point that name at the user's storage.
            builder.Services.AddKeyedSingleton<IGrainStorage>(
                LockGrainOptions.StorageName,
                (services, _) => services.GetRequiredKeyedService<IGrainStorage>(storageName));
        }

        return AddLockGrainsCore(builder, LockRecordLoss.None, configure);
    }

    private static ISiloBuilder AddLockGrainsCore(ISiloBuilder builder, LockRecordLoss recordLoss, Action<LockGrainOptions>? configure)
    {
        var options = builder.Services.AddOptions<LockGrainOptions>().Configure(o => o.RecordLoss = recordLoss);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o =>
        {
            o.Validate();
            return true;
        });
        builder.Services.TryAddSingleton<RecordLossWindow>();
        builder.Services.AddHostedService<SiloDepartureWatcher>();
        return builder;
    }
}
