using Microsoft.CodeAnalysis;

namespace Locking.Analyzers;

/// <summary>Every diagnostic Locking reports, in one place: ids, categories, severities and help links.</summary>
internal static class DiagnosticDescriptors
{
    private const string Reliability = "Reliability";
    private const string Usage = "Usage";
    private const string HelpLinkBase = "https://github.com/locking-dotnet/locking/blob/main/docs/diagnostics/";

    private static DiagnosticDescriptor Create(string id, string title, string message, string category, DiagnosticSeverity severity, string description,
        bool compilationEnd = false)
        => new(id, title, message, category, severity, isEnabledByDefault: true, description: description, helpLinkUri: HelpLinkBase + id + ".md",
            customTags: CustomTags(severity, compilationEnd));

    private static string[] CustomTags(DiagnosticSeverity severity, bool compilationEnd)
    {
        var tags = new System.Collections.Generic.List<string>();
        if (severity == DiagnosticSeverity.Error)
        {
            tags.Add(WellKnownDiagnosticTags.NotConfigurable);
        }

        if (compilationEnd)
        {
            // Reported once the whole compilation is seen: the IDE shows it in full-solution analysis.
            tags.Add(WellKnownDiagnosticTags.CompilationEnd);
        }

        return tags.ToArray();
    }

    public static readonly DiagnosticDescriptor LeaseNotReleased = Create(
        "LOCK001", "Lease is not released on every path",
        "The lease on {0} {1}; use 'await using' so it is released on every path, also when an exception is thrown",
        Reliability, DiagnosticSeverity.Warning,
        "A lease that is never released keeps the key busy until its TTL runs out, and with auto-renewal on, never.");

    public static readonly DiagnosticDescriptor NonOwnerDelete = Create(
        "LOCK002", "Lock key deleted without checking the owner",
        "'{0}' deletes the lock key '{1}' without checking who holds it{2}",
        Reliability, DiagnosticSeverity.Warning,
        "A plain DEL of a lock key (or an expiry that has already passed) releases whoever holds the lock now: after a pause or an expiry that is someone else. Compare the owner and delete in one step: a Lua script, LockRelease, or a transaction conditioned on the owner.");

    public static readonly DiagnosticDescriptor TtlShorterThanWork = Create(
        "LOCK003", "Lease TTL is shorter than the declared work",
        "'{0}' holds its lease for Ttl = {1} without renewal, but declares Work = {2}: the lease ends while the body still runs",
        Reliability, DiagnosticSeverity.Warning,
        "Without renewal the lease expires after its TTL; a body that runs longer overlaps the next holder.");

    public static readonly DiagnosticDescriptor NonAtomicAcquire = Create(
        "LOCK004", "Lock key left without an expiry",
        "The lock key '{0}' {1}",
        Reliability, DiagnosticSeverity.Warning,
        "A lock key must get its expiry in the command that takes it (SET NX PX, LockTake) and keep it: SET NX, SET, INCR or HSETNX followed by a separate EXPIRE leaves a lock that never expires if the process dies in between, and an EXPIRE without expiry (or PERSIST) removes the TTL.");

    public static readonly DiagnosticDescriptor SharedLockOwner = Create(
        "LOCK014", "Lock owner is the same for every holder",
        "The owner '{0}' of the lock key '{1}' is {2}, the same for every holder: '{3}' cannot tell a holder whose lock expired from the one that holds it now",
        Reliability, DiagnosticSeverity.Warning,
        "An owner check (LockRelease, LockExtend, a compare-and-delete script, a transaction conditioned on the owner) only protects the lock when each acquisition stores its own owner value. Take a new random value (Guid.NewGuid().ToString(\"N\")) for each acquisition and pass that same value to the release and every extend.");

    public static readonly DiagnosticDescriptor InvalidKeyTemplate = Create(
        "LOCK005", "Invalid lock key template",
        "The key template '{0}' is invalid: {1}",
        Usage, DiagnosticSeverity.Error,
        "A key template is literal text with {param} or {param.Member} placeholders; {{ and }} escape braces.");

    public static readonly DiagnosticDescriptor InvalidTarget = Create(
        "LOCK006", "[Exclusive] cannot be applied to this method",
        "[Exclusive] method '{0}' is invalid: {1}",
        Usage, DiagnosticSeverity.Error,
        "An [Exclusive] method is a partial method declaration in a partial type, neither async void nor an iterator, without ref, out, in or ref struct parameters.");

    public static readonly DiagnosticDescriptor MissingCoreMethod = Create(
        "LOCK007", "The body method of an [Exclusive] method is missing",
        "[Exclusive] method '{0}' needs a body method '{1}' with parameters ({2}){3}",
        Usage, DiagnosticSeverity.Error,
        "The body of an [Exclusive] method lives in {Name}Core, with the same parameters plus optionally a LockLease and a CancellationToken.");

    public static readonly DiagnosticDescriptor ProviderNotFound = Create(
        "LOCK008", "No single lock provider for an [Exclusive] method",
        "[Exclusive] method '{0}' {1}",
        Usage, DiagnosticSeverity.Error,
        "The wrapper needs exactly one ILockProvider: a field, property or primary-constructor parameter of the type, or a parameter of the method; with several, Store = nameof(member) picks one.");

    public static readonly DiagnosticDescriptor InvalidDuration = Create(
        "LOCK009", "Invalid lock duration",
        "{0} = \"{1}\" is invalid: {2}",
        Usage, DiagnosticSeverity.Error,
        "Durations are \"250ms\", \"30s\", \"5m\", \"1h\", \"0\", \"infinite\" or \"hh:mm:ss\"; Ttl must be positive and Wait not negative.");

    public static readonly DiagnosticDescriptor CoreCalledDirectly = Create(
        "LOCK010", "Body method called without its lock",
        "'{0}' is the body of [Exclusive] method '{1}'; calling it directly bypasses the lock",
        Reliability, DiagnosticSeverity.Warning,
        "Call the [Exclusive] method instead, which acquires the lease before it runs the body.");

    public static readonly DiagnosticDescriptor UnstableKeyPlaceholder = Create(
        "LOCK011", "Key placeholder has no stable text form",
        "The key placeholder '{0}' of type '{1}' has no stable text form; calls will share or scatter lock keys",
        Reliability, DiagnosticSeverity.Warning,
        "A placeholder's ToString decides the key: a type without its own ToString formats as its type name, so every call takes the same lock.");

    public static readonly DiagnosticDescriptor SameKeyReentrancy = Create(
        "LOCK012", "[Exclusive] body takes its own lock again",
        "The body of '{0}' calls '{1}', which takes the same lock key '{2}': the call throws LockRecursionException",
        Reliability, DiagnosticSeverity.Warning,
        "A lease is not reentrant; pass the work down instead of calling back into a method that takes the same key.");

    public static readonly DiagnosticDescriptor InconsistentLockOrder = Create(
        "LOCK013", "Locks taken in inconsistent order",
        "'{0}' takes lock '{1}' then '{2}', but '{3}' takes them in the opposite order: the two can deadlock",
        Reliability, DiagnosticSeverity.Warning,
        "Two methods that nest the same two locks in opposite orders can each hold one and wait for the other.",
        compilationEnd: true);
}
