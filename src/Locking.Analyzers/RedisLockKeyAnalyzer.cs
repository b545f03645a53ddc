using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>
/// Hand-written Redis locks on StackExchange.Redis, judged per type. LOCK002: a delete that does not compare the
/// owner (KeyDelete, StringDelete without a value condition, GETDEL, DEL/UNLINK, an expiry that has passed, a DEL
/// script) of a key the type uses as a lock, or of a key under a lock prefix. LOCK004: a lock key that is left
/// without an expiry for a moment or for good (SET NX, SET, INCR or HSETNX, then a separate EXPIRE; an EXPIRE
/// without expiry or PERSIST). LOCK014: an owner check (LockRelease, LockExtend, ValueCondition.Equal, a
/// compare-and-delete script, a transaction conditioned on Condition.StringEqual) whose owner value is the same
/// for every holder.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RedisLockKeyAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Property of a LOCK002 or LOCK014 diagnostic: how the code fix gets a per-acquisition owner (<see cref="OwnerFixKinds"/>).</summary>
    public const string OwnerFixProperty = "OwnerFix";

    /// <summary>Property of a LOCK002 or LOCK014 diagnostic: the owner expression (Use) or the new owner's initial value (Introduce; empty for a new GUID).</summary>
    public const string OwnerValueProperty = "OwnerValue";

    /// <summary>Property of a LOCK004 diagnostic: which acquire shape it is (<see cref="AcquireShapes"/>).</summary>
    public const string ShapeProperty = "Shape";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.NonOwnerDelete, DiagnosticDescriptors.NonAtomicAcquire, DiagnosticDescriptors.SharedLockOwner);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var symbols = RedisSymbols.TryCreate(start.Compilation);
            if (symbols is null)
            {
                return;
            }

            start.RegisterSymbolStartAction(typeStart =>
            {
                var type = (INamedTypeSymbol)typeStart.Symbol;
                var seen = new TypeCalls(type);
                typeStart.RegisterOperationAction(c => CollectInvocation(c, type, symbols, seen), OperationKind.Invocation);
                typeStart.RegisterOperationAction(c => CollectAssignment(c, type, seen),
                    OperationKind.SimpleAssignment, OperationKind.CoalesceAssignment, OperationKind.FieldInitializer, OperationKind.PropertyInitializer);
                typeStart.RegisterSymbolEndAction(c => new TypeReport(c, seen).Run());
            }, SymbolKind.NamedType);
        });
    }

    private static void CollectInvocation(OperationAnalysisContext context, INamedTypeSymbol type, RedisSymbols symbols, TypeCalls seen)
    {
        if (!IsOwn(context.ContainingSymbol, type))
        {
            return;
        }

        var invocation = (IInvocationOperation)context.Operation;
        var target = invocation.TargetMethod;
        if (SymbolEqualityComparer.Default.Equals(target.ContainingType?.OriginalDefinition, type.OriginalDefinition))
        {
            seen.Members.AddCall(invocation);
            return;
        }

        var calls = new List<RedisCall>(1);
        RedisCallReader.Read(invocation, context.ContainingSymbol, symbols, seen.Locals, calls);
        seen.Add(calls);
    }

    private static void CollectAssignment(OperationAnalysisContext context, INamedTypeSymbol type, TypeCalls seen)
    {
        if (!IsOwn(context.ContainingSymbol, type))
        {
            return;
        }

        var atConstruction = context.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor or MethodKind.StaticConstructor };
        switch (context.Operation)
        {
            case IFieldInitializerOperation initializer:
                foreach (var field in initializer.InitializedFields)
                {
                    seen.Members.AddAssignment(field, initializer.Value, atConstruction: true);
                }

                break;
            case IPropertyInitializerOperation initializer:
                foreach (var property in initializer.InitializedProperties)
                {
                    seen.Members.AddAssignment(property, initializer.Value, atConstruction: true);
                }

                break;
            case ICoalesceAssignmentOperation { Target: var target, Value: var value } when OwnMember(target, type) is { } member:
                // _owner ??= ...: set once, on first use.
                seen.Members.AddAssignment(member, value, atConstruction: true);
                break;
            case ISimpleAssignmentOperation { Target: var target, Value: var value } when OwnMember(target, type) is { } member:
                seen.Members.AddAssignment(member, value, atConstruction);
                break;
        }
    }

    private static ISymbol? OwnMember(IOperation target, INamedTypeSymbol type)
    {
        var (member, instance) = target switch
        {
            IFieldReferenceOperation field => ((ISymbol)field.Field, field.Instance),
            IPropertyReferenceOperation property => (property.Property, property.Instance),
            _ => (null, null),
        };
        return member is not null && RedisKeyIdentity.IsOwnMember(instance)
            && SymbolEqualityComparer.Default.Equals(member.ContainingType?.OriginalDefinition, type.OriginalDefinition)
            ? member
            : null;
    }

    private static bool IsOwn(ISymbol containing, INamedTypeSymbol type)
        => SymbolEqualityComparer.Default.Equals(containing as INamedTypeSymbol ?? containing.ContainingType, type);

    /// <summary>What one type did, collected from concurrent operation callbacks.</summary>
    internal sealed class TypeCalls
    {
        private readonly List<RedisCall> _calls = new();

        public TypeCalls(INamedTypeSymbol type)
        {
            Type = type;
            Members = new TypeMembers(type);
        }

        public INamedTypeSymbol Type { get; }

        public TypeMembers Members { get; }

        public LocalValues Locals { get; } = new();

        public void Add(List<RedisCall> calls)
        {
            if (calls.Count == 0)
            {
                return;
            }

            lock (_calls)
            {
                _calls.AddRange(calls);
            }
        }

        public List<RedisCall> Snapshot()
        {
            lock (_calls)
            {
                return _calls.OrderBy(c => c.Invocation.Syntax.SyntaxTree.FilePath, StringComparer.Ordinal).ThenBy(c => c.Invocation.Syntax.SpanStart).ToList();
            }
        }
    }

    /// <summary>The values the code fixes read from <see cref="OwnerFixProperty"/>.</summary>
    public static class OwnerFixKinds
    {
        /// <summary>Use <see cref="OwnerValueProperty"/> as the owner where the diagnostic is (and at the extra locations after the first).</summary>
        public const string Use = "Use";

        /// <summary>
        /// Declare a new owner (a GUID, or <see cref="OwnerValueProperty"/>) just before the acquire (additional location 0),
        /// in the block that also holds the release, and pass it at every other additional location.
        /// </summary>
        public const string Introduce = "Introduce";

        /// <summary>The owner is a local whose one value (additional location 1) is shared: give it a new GUID there.</summary>
        public const string Initializer = "Initializer";
    }

    /// <summary>The values of <see cref="ShapeProperty"/>.</summary>
    public static class AcquireShapes
    {
        /// <summary>StringSet (with When.NotExists or without a condition) and no expiry, then KeyExpire.</summary>
        public const string SetThenExpire = "SetThenExpire";

        /// <summary>StringIncrement whose result decides who holds the lock, then KeyExpire.</summary>
        public const string IncrementThenExpire = "IncrementThenExpire";

        /// <summary>HashSet with When.NotExists, then an expire.</summary>
        public const string HashSetThenExpire = "HashSetThenExpire";

        /// <summary>KeyExpire without an expiry, or KeyPersist, on a lock key.</summary>
        public const string Persist = "Persist";
    }
}
