using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Locking;

/// <summary>Chooses Orleans lock grains as the lease store of <see cref="LockingServiceCollectionExtensions.AddLocking"/>.</summary>
public static class OrleansLockingBuilderExtensions
{
    /// <summary>
    /// Uses an <see cref="OrleansLockProvider"/> on the container's <see cref="IGrainFactory"/> as the
    /// <see cref="ILockProvider"/> singleton: a silo's own factory when the app hosts a silo
    /// (<c>builder.UseOrleans(silo => silo.UseLocalhostClustering().AddLockGrains())</c>, the embedded default), or the
    /// cluster client's when it is a client (<c>builder.UseOrleansClient(...)</c>).
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Adjusts the provider options, for example <c>o => o with { WaitPerCall = TimeSpan.FromSeconds(5) }</c>.</param>
    /// <example>
    /// <code>
    /// var builder = Host.CreateApplicationBuilder(args);
    /// builder.UseOrleans(silo => silo.UseLocalhostClustering().AddLockGrains());
    /// builder.Services.AddLocking(locking => locking.UseOrleans());
    /// </code>
    /// </example>
    public static LockingBuilder UseOrleans(this LockingBuilder builder, Func<OrleansLockProviderOptions, OrleansLockProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseProvider(services =>
        {
            var options = new OrleansLockProviderOptions();
            if (configure is not null)
            {
                options = configure(options) ?? throw new InvalidOperationException("The UseOrleans configure function returned null options.");
            }

            var grains = services.GetService<IGrainFactory>() ?? throw new InvalidOperationException(
                "UseOrleans() found no IGrainFactory: host a silo (builder.UseOrleans(silo => silo.UseLocalhostClustering().AddLockGrains())) " +
                "or a cluster client (builder.UseOrleansClient(...)) in the same container.");
            return new OrleansLockProvider(
                grains,
                options,
                services.GetService<ILoggerFactory>()?.CreateLogger<OrleansLockProvider>(),
                services.GetService<TimeProvider>());
        });
    }
}
