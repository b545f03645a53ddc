using System.Runtime.CompilerServices;

namespace Locking.Runtime.Tests;

internal static class TestAssemblySetup
{
    /// <summary>
    /// Some tests block a pool thread for a moment (signalling or killing redis-server, Dispose of a lease); with two
    /// cores the pool would otherwise start with two threads, and the lease timers of parallel tests would fire late.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => ThreadPool.SetMinThreads(16, 16);
}
