#if !NET9_0_OR_GREATER
namespace Locking;

/// <summary>
/// Stands in for System.Threading.Lock (new in .NET 9) on older runtimes, so <c>lock (_gate)</c> reads the same on
/// every target: there, locking an instance of this class is an ordinary monitor lock.
/// </summary>
internal sealed class Lock
{
}
#endif
