using System.Diagnostics;
using Orleans.Runtime.Diagnostics;

namespace Locking;

/// <summary>
/// Tells a lock grain that its activation began to deactivate. Orleans runs OnDeactivateAsync only after every
/// running call ended, and a parked acquire is a running call: without this signal a deactivation (shutdown,
/// rebalancing) would wait for every parked waiter's timeout instead of sending the waiters off to retry.
/// Listens to Orleans' grain lifecycle diagnostic events, the "Deactivating" one only.
/// </summary>
internal static class DeactivationSignal
{
    private static int s_subscribed;

    public static void EnsureSubscribed()
    {
        if (Interlocked.Exchange(ref s_subscribed, 1) == 0)
        {
            DiagnosticListener.AllListeners.Subscribe(new ListenerObserver());
        }
    }

    private sealed class ListenerObserver : IObserver<DiagnosticListener>
    {
        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name == GrainLifecycleEvents.ListenerName)
            {
                listener.Subscribe(new EventObserver(), static (name, _, _) => name == nameof(GrainLifecycleEvents.Deactivating));
            }
        }

        public void OnCompleted() { }

        public void OnError(Exception error) { }
    }

    private sealed class EventObserver : IObserver<KeyValuePair<string, object?>>
    {
        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Value is GrainLifecycleEvents.Deactivating { GrainContext.GrainInstance: LockGrain grain })
            {
                grain.OnDeactivating();
            }
        }

        public void OnCompleted() { }

        public void OnError(Exception error) { }
    }
}
