using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>LOCK002, LOCK004 and LOCK014 for one type, from the calls it makes.</summary>
internal sealed class TypeReport
{
    private readonly SymbolAnalysisContext _context;
    private readonly RedisLockKeyAnalyzer.TypeCalls _seen;
    private readonly List<RedisCall> _calls;
    private readonly OwnerClassifier _owners;

    /// <summary>Calls that take a lock or check its owner: their keys are the type's lock keys.</summary>
    private readonly List<RedisCall> _lockCalls;

    public TypeReport(SymbolAnalysisContext context, RedisLockKeyAnalyzer.TypeCalls seen)
    {
        _context = context;
        _seen = seen;
        _calls = seen.Snapshot();
        _owners = new OwnerClassifier(seen.Type, seen.Members, seen.Locals);
        PairTransactionConditions();
        _lockCalls = _calls.Where(c => c.TakesLock || c.Kind == RedisCallKind.OwnerCheck).ToList();
    }

    public void Run()
    {
        if (_calls.Count == 0)
        {
            return;
        }

        ReportNonOwnerDeletes();
        ReportKeysWithoutExpiry();
        ReportSharedOwners();
    }

    /// <summary>
    /// A delete, expire or set queued on a transaction that is conditioned on Condition.StringEqual(key, owner)
    /// runs only while the key holds that owner: an owner-checked release or extend, reported (if at all) where the
    /// condition is.
    /// </summary>
    private void PairTransactionConditions()
    {
        var conditions = _calls.Where(c => c.Kind == RedisCallKind.OwnerCondition).ToList();
        if (conditions.Count == 0)
        {
            return;
        }

        foreach (var call in _calls)
        {
            if (call.Kind is not (RedisCallKind.Delete or RedisCallKind.Expire or RedisCallKind.PlainSet) || call.Receiver is null)
            {
                continue;
            }

            var condition = conditions.FirstOrDefault(c => SymbolEqualityComparer.Default.Equals(c.Receiver, call.Receiver) && c.SameMember(call) && c.Key.Matches(call.Key));
            if (condition is null)
            {
                continue;
            }

            call.IsRelease = call.Kind == RedisCallKind.Delete;
            call.Kind = RedisCallKind.OwnerCheck;
            call.Owner = condition.Owner;
            call.Site = condition.Site;
        }
    }

    // ---- LOCK002 ----

    private void ReportNonOwnerDeletes()
    {
        var reported = new HashSet<IInvocationOperation>();
        foreach (var delete in _calls.Where(c => c.Kind == RedisCallKind.Delete))
        {
            if (reported.Contains(delete.Invocation))
            {
                continue;
            }

            var acquire = LockCallFor(delete);
            if (acquire is null && !delete.Key.IsUnderLockPrefix && !IsReleaseOfCallersKey(delete) && !IsPassedLockKey(delete))
            {
                continue;
            }

            reported.Add(delete.Invocation);
            var properties = ImmutableDictionary<string, string?>.Empty;
            var locations = new List<Location>();
            if (acquire is { Kind: RedisCallKind.Acquire } && OwnerPlan(acquire, delete, replaceAtSite: false) is { } plan)
            {
                properties = plan.Properties;
                locations.AddRange(plan.Locations);
            }
            else if (acquire is not null)
            {
                locations.Add(acquire.Invocation.Syntax.GetLocation());
            }

            var name = delete.DeleteNote is { } note ? delete.Name + " " + note : delete.Name;
            _context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NonOwnerDelete, delete.Invocation.Syntax.GetLocation(), locations, properties,
                name, delete.Key.Display, DeleteDetail(delete)));
        }
    }

    /// <summary>The end of the LOCK002 message: why it matters here, or that the delete also deletes the data the lock guards.</summary>
    private string DeleteDetail(RedisCall delete)
    {
        var data = _calls.FirstOrDefault(c => c.Kind == RedisCallKind.Delete && c.SameMember(delete) && !IsLockKey(c.Key)
            && !ReferenceEquals(c, delete) && !c.Key.Matches(delete.Key));
        if (data is not null)
        {
            return $", together with the data it guards ('{data.Key.Display}'): if this is a deliberate reset, suppress LOCK002 here with a justification";
        }

        return _calls.Any(c => c.Kind == RedisCallKind.Read && c.IsBefore(delete) && c.Key.Matches(delete.Key))
            ? "; reading the owner first does not help, since the lock can change hands between the read and the delete"
            : "; it can delete another owner's lock";
    }

    private bool IsLockKey(RedisKeyIdentity key) => key.IsUnderLockPrefix || _lockCalls.Any(c => c.Key.Matches(key));

    /// <summary>The call that takes (or owner-checks) the lock <paramref name="call"/>'s key, preferring one in the same member.</summary>
    private RedisCall? LockCallFor(RedisCall call)
        => _lockCalls.Where(c => c.Key.Matches(call.Key))
            .OrderBy(c => c.SameMember(call) ? 0 : 1).ThenBy(c => c.Kind == RedisCallKind.Acquire ? 0 : 1)
            .FirstOrDefault();

    /// <summary>
    /// A lock wrapper that takes its callers' keys (LockTake(key, ...) on a parameter) and releases them in a
    /// method named as a release (Release, Unlock, ReleaseLock): its plain delete of a caller's key is a lock release.
    /// </summary>
    private bool IsReleaseOfCallersKey(RedisCall delete)
    {
        if (!delete.Key.VariesPerCall || !IsReleaseName(delete.Member))
        {
            return false;
        }

        return _lockCalls.Any(c => c.TakesLock && c.Key.Anchor is IParameterSymbol);
    }

    /// <summary>
    /// A private helper that deletes the key it is given (ReleaseAsync(RedisKey key) => KeyDeleteAsync(key)), and a
    /// caller in this type passes it one of the type's lock keys.
    /// </summary>
    private bool IsPassedLockKey(RedisCall delete)
    {
        if (delete.Key.Anchor is not IParameterSymbol { ContainingSymbol: IMethodSymbol { DeclaredAccessibility: Accessibility.Private } method } parameter
            || _seen.Members.CallsOf(method) is not { Count: > 0 } calls)
        {
            return false;
        }

        foreach (var call in calls)
        {
            var argument = call.Arguments.FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.Parameter?.OriginalDefinition, parameter.OriginalDefinition));
            if (argument is { ArgumentKind: not ArgumentKind.DefaultValue } && IsLockKey(RedisKeyIdentity.Of(argument.Value, _seen.Locals)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsReleaseName(ISymbol member)
    {
        var name = member.Name;
        var typeName = member.ContainingType?.Name ?? "";
        if (Contains(name, "Unlock"))
        {
            return true;
        }

        var releases = Contains(name, "Release") || Contains(name, "Exit") || Contains(name, "Free");
        var rest = name.Replace("Release", "");
        var locks = Contains(rest, "Lock") || Contains(rest, "Mutex") || Contains(rest, "Lease")
            || Contains(typeName, "Lock") || Contains(typeName, "Mutex") || Contains(typeName, "Lease") || Contains(typeName, "Semaphore");
        return releases && locks;
    }

    private static bool Contains(string text, string word) => text.IndexOf(word, StringComparison.OrdinalIgnoreCase) >= 0;

    // ---- LOCK004 ----

    private void ReportKeysWithoutExpiry()
    {
        foreach (var call in _calls)
        {
            if (IsBatched(call))
            {
                continue;
            }

            string? shape = null, how = null;
            switch (call.Kind)
            {
                case RedisCallKind.Acquire when !call.HasExpiry && !call.IsLockByItself:
                    (shape, how) = (RedisLockKeyAnalyzer.AcquireShapes.SetThenExpire, "is set with When.NotExists and no expiry");
                    break;
                case RedisCallKind.PlainSet when !call.HasExpiry && IsLockKey(call.Key):
                    (shape, how) = (RedisLockKeyAnalyzer.AcquireShapes.SetThenExpire, "is set without an expiry");
                    break;
                case RedisCallKind.Increment when !call.HasExpiry && call.ResultUsed:
                    (shape, how) = (RedisLockKeyAnalyzer.AcquireShapes.IncrementThenExpire, "is taken by an increment without an expiry");
                    break;
                case RedisCallKind.HashSetNotExists:
                    (shape, how) = (RedisLockKeyAnalyzer.AcquireShapes.HashSetThenExpire, "is taken by HashSet with When.NotExists, which sets no expiry");
                    break;
                case RedisCallKind.Persist when IsLockKey(call.Key):
                    Report004(call, null, RedisLockKeyAnalyzer.AcquireShapes.Persist,
                        $"loses its expiry: '{call.Name}' {(call.Name.StartsWith("KeyPersist", StringComparison.Ordinal) ? "removes the TTL" : "without an expiry removes the TTL")}, so if its holder dies the lock never expires");
                    continue;
            }

            if (shape is null)
            {
                continue;
            }

            var expire = _calls.FirstOrDefault(e => e.Kind == RedisCallKind.Expire && call.IsBefore(e) && e.Key.Matches(call.Key));
            if (expire is not null)
            {
                Report004(call, expire, shape, $"{how}, then given one by a separate '{expire.Name}': a crash in between leaves a lock that never expires");
            }
        }
    }

    private void Report004(RedisCall call, RedisCall? expire, string shape, string message)
        => _context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NonAtomicAcquire, call.Invocation.Syntax.GetLocation(),
            expire is null ? null : new[] { expire.Invocation.Syntax.GetLocation() },
            ImmutableDictionary<string, string?>.Empty.Add(RedisLockKeyAnalyzer.ShapeProperty, shape), call.Key.Display, message));

    /// <summary>Commands queued on a transaction or batch go to the server together.</summary>
    private static bool IsBatched(RedisCall call)
        => call.Invocation.Instance?.Type is { Name: "ITransaction" or "IBatch" };

    // ---- LOCK014 ----

    private void ReportSharedOwners()
    {
        var unknownChecks = new List<RedisCall>();
        var reportedKeys = new List<RedisKeyIdentity>();
        foreach (var check in _calls.Where(c => c.Kind == RedisCallKind.OwnerCheck && c.Owner is not null))
        {
            var owner = _owners.Classify(check.Owner!, check.Key);
            if (!IsShared(owner, check.Key))
            {
                if (owner.Scope == OwnerScope.Unknown)
                {
                    unknownChecks.Add(check);
                }

                continue;
            }

            var acquire = _calls.Where(c => c.Kind == RedisCallKind.Acquire && c.Owner is not null && c.Key.Matches(check.Key))
                .OrderBy(c => c.SameMember(check) ? 0 : 1).FirstOrDefault();
            ReportShared(check, owner, acquire is not null && acquire.SameMember(check) ? acquire : null, acquire);
            reportedKeys.Add(check.Key);
        }

        // An acquire with a shared owner whose release or extend takes the owner from elsewhere (a parameter).
        foreach (var acquire in _calls.Where(c => c.Kind == RedisCallKind.Acquire && c.Owner is not null && c.TakesLock))
        {
            if (reportedKeys.Any(k => k.Matches(acquire.Key)) || !unknownChecks.Any(c => c.Key.Matches(acquire.Key)))
            {
                continue;
            }

            var owner = _owners.Classify(acquire.Owner!, acquire.Key);
            if (IsShared(owner, acquire.Key))
            {
                ReportShared(acquire, owner, acquire, null);
            }
        }
    }

    private static bool IsShared(OwnerValue owner, RedisKeyIdentity key)
        => owner.Scope == OwnerScope.Shared || (owner.Scope == OwnerScope.PerInstance && key.VariesPerCall);

    private void ReportShared(RedisCall site, OwnerValue owner, RedisCall? sameMemberAcquire, RedisCall? anyAcquire)
    {
        var why = owner.Scope == OwnerScope.PerInstance ? owner.Why + ", so every acquisition made through one instance shares it" : owner.Why;
        var properties = ImmutableDictionary<string, string?>.Empty;
        var locations = new List<Location>();
        if (sameMemberAcquire is not null && OwnerPlan(sameMemberAcquire, site, replaceAtSite: true) is { } plan)
        {
            properties = plan.Properties;
            locations.AddRange(plan.Locations);
        }
        else if (anyAcquire is not null && !ReferenceEquals(anyAcquire, site))
        {
            locations.Add(anyAcquire.Invocation.Syntax.GetLocation());
        }

        _context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.SharedLockOwner, site.Site.Syntax.GetLocation(), locations, properties,
            site.Owner!.Syntax.ToString(), site.Key.Display, why, site.Name));
    }

    // ---- code fix plans ----

    private sealed record Plan(ImmutableDictionary<string, string?> Properties, List<Location> Locations);

    /// <summary>
    /// How a code fix gets the owner to <paramref name="site"/> (a delete to rewrite, or an owner check whose owner
    /// is shared) so that each acquisition has its own: keep the acquire's owner when it is already per
    /// acquisition and reachable at the site, otherwise give the acquisition a new one in the member both are in.
    /// Null when no edit in this member can do it (the acquire is elsewhere and its owner is shared).
    /// </summary>
    private Plan? OwnerPlan(RedisCall acquire, RedisCall site, bool replaceAtSite)
    {
        if (acquire.Owner is null)
        {
            return null;
        }

        var owner = _owners.Classify(acquire.Owner, acquire.Key);
        var shared = IsShared(owner, acquire.Key);
        var value = RedisKeyIdentity.Unwrap(acquire.Owner);
        var locations = new List<Location> { acquire.Invocation.Syntax.GetLocation() };
        ImmutableDictionary<string, string?> Properties(string kind, string? ownerValue)
            => ImmutableDictionary<string, string?>.Empty.Add(RedisLockKeyAnalyzer.OwnerFixProperty, kind).Add(RedisLockKeyAnalyzer.OwnerValueProperty, ownerValue ?? "");

        if (!acquire.SameMember(site))
        {
            // Another member: only an owner that is per acquisition and readable at the site will do.
            return shared || replaceAtSite || OwnerExpressionAt(value, site) is not { } expression
                ? null
                : new Plan(Properties(RedisLockKeyAnalyzer.OwnerFixKinds.Use, expression), locations);
        }

        // The owner arguments of the owner checks of this key in this member: they must carry the new owner too.
        var replaced = _calls.Where(c => c.Kind == RedisCallKind.OwnerCheck && c.Owner is not null && c.SameMember(acquire) && c.Key.Matches(acquire.Key)
                && (replaceAtSite || !ReferenceEquals(c, site)))
            .Select(c => c.Owner!.Syntax.GetLocation())
            .ToList();

        if (!shared && value is ILocalReferenceOperation or IParameterReferenceOperation or IFieldReferenceOperation or IPropertyReferenceOperation)
        {
            if (replaceAtSite)
            {
                locations.AddRange(replaced);
            }

            return new Plan(Properties(RedisLockKeyAnalyzer.OwnerFixKinds.Use, value.Syntax.ToString()), locations);
        }

        if (shared && value is ILocalReferenceOperation local && LocalInitializer(local) is { } initializer)
        {
            locations.Add(initializer.Syntax.GetLocation());
            return new Plan(Properties(RedisLockKeyAnalyzer.OwnerFixKinds.Initializer, null), locations);
        }

        locations.Add(acquire.Owner.Syntax.GetLocation());
        locations.AddRange(replaced);
        return new Plan(Properties(RedisLockKeyAnalyzer.OwnerFixKinds.Introduce, shared ? null : acquire.Owner.Syntax.ToString()), locations);
    }

    /// <summary>The initializer of a local that is given no other value.</summary>
    private static IOperation? LocalInitializer(ILocalReferenceOperation local)
    {
        var values = LocalValues.AllValues(local).ToList();
        if (values.Count != 1 || values[0] is not { } value)
        {
            return null;
        }

        return value.Parent is IVariableInitializerOperation ? value : null;
    }

    /// <summary>
    /// The owner an acquire in another member stored, as an expression valid at <paramref name="site"/>: a member
    /// of the type, or a parameter of the site's method with the same name. Null when there is none.
    /// </summary>
    private static string? OwnerExpressionAt(IOperation value, RedisCall site)
    {
        var method = site.Member as IMethodSymbol;
        return value switch
        {
            IFieldReferenceOperation { Field: var field } when field.IsStatic || method is { IsStatic: false } => value.Syntax.ToString(),
            IPropertyReferenceOperation { Property: var property, Arguments.Length: 0 } when property.IsStatic || method is { IsStatic: false } => value.Syntax.ToString(),
            IParameterReferenceOperation { Parameter: { ContainingSymbol: IMethodSymbol { MethodKind: MethodKind.Constructor } } } when method is { IsStatic: false } => value.Syntax.ToString(),
            IParameterReferenceOperation { Parameter.Name: var name } when method?.Parameters.Any(p => p.Name == name) == true => name,
            _ => null,
        };
    }
}
