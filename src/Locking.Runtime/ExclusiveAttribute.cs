namespace Locking;

/// <summary>
/// Marks a partial method that may only run while its caller holds a lease on <see cref="Key"/>.
/// The Locking source generator implements the method: it acquires the lease, runs the body in
/// <c>{Name}Core</c> while renewing the lease, and releases it (owner checked) when the body ends.
/// </summary>
/// <example>
/// <code>
/// [Exclusive("orders/{orderId}", Ttl = "30s", Wait = "5s")]
/// public partial Task ChargeAsync(string orderId, CancellationToken ct);
/// private async Task ChargeAsyncCore(string orderId, LockLease lease, CancellationToken ct) { ... }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class ExclusiveAttribute(string key) : Attribute
{
    /// <summary>
    /// The key template: literal text and <c>{param}</c> or <c>{param.Member.Member}</c> placeholders,
    /// formatted with the invariant culture. <c>{{</c> and <c>}}</c> stand for literal braces.
    /// </summary>
    public string Key { get; } = key;

    /// <summary>The lease time-to-live: "250ms", "30s", "5m", "1h" or "hh:mm:ss". Default "30s".</summary>
    public string Ttl { get; set; } = "30s";

    /// <summary>The longest wait for the lease: a duration, "0" to try once, or "infinite". Default "5s".</summary>
    public string Wait { get; set; } = "5s";

    /// <summary>The declared longest duration of the body; checked against <see cref="Ttl"/> at compile time.</summary>
    public string? Work { get; set; }

    /// <summary>Whether the lease renews itself every Ttl/3 while the body runs. Default <see langword="true"/>.</summary>
    public bool Renew { get; set; } = true;

    /// <summary>What the call does when the lease is still busy after <see cref="Wait"/>. Default <see cref="OnBusy.Throw"/>.</summary>
    public OnBusy OnBusy { get; set; } = OnBusy.Throw;

    /// <summary>
    /// The name of the <see cref="ILockProvider"/> field, property or parameter to use when the type has
    /// several (write <c>nameof(member)</c>).
    /// </summary>
    public string? Store { get; set; }
}

/// <summary>What an <see cref="ExclusiveAttribute"/> method does when its lease stays busy.</summary>
public enum OnBusy
{
    /// <summary>Throw <see cref="LockNotAcquiredException"/>.</summary>
    Throw,

    /// <summary>Return without running the body (<c>default</c> for a result).</summary>
    Skip,
}
