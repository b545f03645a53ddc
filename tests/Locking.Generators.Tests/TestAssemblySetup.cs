using System.Runtime.CompilerServices;

namespace Locking.Generators.Tests;

internal static class TestAssemblySetup
{
    /// <summary>
    /// The synchronous wrappers block a pool thread until the store answers, and StackExchange.Redis reads the answers
    /// on the pool: with two cores the pool starts with two threads and adds more slowly than a store call's timeout,
    /// while the test classes run in parallel. An app that calls synchronous [Exclusive] methods from many pool threads
    /// needs the same (README, `[Exclusive]` reference).
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => ThreadPool.SetMinThreads(16, 16);
}
