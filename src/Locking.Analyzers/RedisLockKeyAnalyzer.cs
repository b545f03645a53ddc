using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>
/// Hand-written Redis locks on StackExchange.Redis. LOCK002: a plain delete (KeyDelete, StringDelete without
/// a value condition, Execute "DEL"/"UNLINK") of a key the same type acquires with When.NotExists or LockTake,
/// or of a key under a lock prefix. LOCK004: a SET NX without expiry followed in the same method by a separate
/// EXPIRE of the same key.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RedisLockKeyAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Property of a LOCK002 diagnostic: an expression for the owner token, valid where the delete is.</summary>
    public const string OwnerValueProperty = "OwnerValue";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.NonOwnerDelete, DiagnosticDescriptors.NonAtomicAcquire);

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
                var calls = new TypeCalls();
                typeStart.RegisterOperationAction(c => Collect(c, type, symbols, calls), OperationKind.Invocation);
                typeStart.RegisterSymbolEndAction(c => Report(c, calls));
            }, SymbolKind.NamedType);
        });
    }

    private static void Collect(OperationAnalysisContext context, INamedTypeSymbol type, RedisSymbols symbols, TypeCalls calls)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var method = invocation.TargetMethod;
        if (!symbols.IsDatabaseMethod(method) || !SymbolEqualityComparer.Default.Equals(ContainingType(context.ContainingSymbol), type))
        {
            return;
        }

        switch (method.Name)
        {
            case "StringSet" or "StringSetAsync" or "LockTake" or "LockTakeAsync":
                if (Argument(invocation, "key") is not { } key)
                {
                    return;
                }

                var isLockTake = method.Name.StartsWith("LockTake", StringComparison.Ordinal);
                if (!isLockTake && !symbols.IsNotExists(Argument(invocation, "when")))
                {
                    return;
                }

                var set = new LockSet(invocation, RedisKeyIdentity.Of(key), Argument(invocation, "value"), context.ContainingSymbol,
                    HasExpiry: isLockTake || symbols.HasExpiry(Argument(invocation, "expiry")), ResultUsed: IsResultUsed(invocation));
                calls.Add(set);
                break;
            case "KeyExpire" or "KeyExpireAsync":
                if (Argument(invocation, "key") is { } expired)
                {
                    calls.Add(new KeyCall(invocation, RedisKeyIdentity.Of(expired), context.ContainingSymbol), expire: true);
                }

                break;
            case "KeyDelete" or "KeyDeleteAsync" or "StringDelete" or "StringDeleteAsync":
                if (method.Name.StartsWith("StringDelete", StringComparison.Ordinal) && !symbols.IsAlways(Argument(invocation, "when")))
                {
                    // A value condition (ValueCondition.Equal(token)) makes it an owner-checked delete.
                    return;
                }

                foreach (var deleted in KeysOf(Argument(invocation, "key") ?? Argument(invocation, "keys")))
                {
                    calls.Add(new KeyCall(invocation, RedisKeyIdentity.Of(deleted), context.ContainingSymbol), expire: false);
                }

                break;
            case "Execute" or "ExecuteAsync":
                if (Argument(invocation, "command")?.ConstantValue is { HasValue: true, Value: string command }
                    && (command.Equals("DEL", StringComparison.OrdinalIgnoreCase) || command.Equals("UNLINK", StringComparison.OrdinalIgnoreCase)))
                {
                    foreach (var deleted in KeysOf(Argument(invocation, "args")))
                    {
                        calls.Add(new KeyCall(invocation, RedisKeyIdentity.Of(deleted), context.ContainingSymbol), expire: false);
                    }
                }

                break;
        }
    }

    private static void Report(SymbolAnalysisContext context, TypeCalls calls)
    {
        var (sets, expires, deletes) = calls.Snapshot();

        // LOCK002: at most one diagnostic per delete call, even when it deletes several matching keys.
        var reported = new HashSet<IInvocationOperation>();
        foreach (var delete in deletes)
        {
            var acquire = sets.FirstOrDefault(s => s.ResultUsed && s.Key.Matches(delete.Key));
            if ((acquire is null && !delete.Key.IsUnderLockPrefix) || !reported.Add(delete.Invocation))
            {
                continue;
            }

            var properties = ImmutableDictionary<string, string?>.Empty;
            if (acquire is not null && OwnerValueAt(acquire, delete) is { } owner)
            {
                properties = properties.Add(OwnerValueProperty, owner);
            }

            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NonOwnerDelete, delete.Invocation.Syntax.GetLocation(),
                additionalLocations: acquire is null ? null : new[] { acquire.Invocation.Syntax.GetLocation() },
                properties, delete.Invocation.TargetMethod.Name, delete.Key.Display));
        }

        // LOCK004: SET NX without expiry, then EXPIRE of the same key later in the same method.
        foreach (var set in sets.Where(s => !s.HasExpiry))
        {
            var expire = expires.FirstOrDefault(e => SymbolEqualityComparer.Default.Equals(e.Method, set.Method)
                && e.Invocation.Syntax.SpanStart > set.Invocation.Syntax.SpanStart
                && e.Invocation.Syntax.SyntaxTree == set.Invocation.Syntax.SyntaxTree
                && e.Key.Matches(set.Key));
            if (expire is not null)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NonAtomicAcquire, set.Invocation.Syntax.GetLocation(),
                    additionalLocations: new[] { expire.Invocation.Syntax.GetLocation() }, set.Key.Display));
            }
        }
    }

    /// <summary>
    /// The owner token the acquire stored, as an expression valid where the delete is: a constant, a member
    /// of the type, or a parameter of the deleting method with the same name. Null when there is none.
    /// </summary>
    private static string? OwnerValueAt(LockSet acquire, KeyCall delete)
    {
        if (acquire.Value is null)
        {
            return null;
        }

        var value = RedisKeyIdentity.Unwrap(acquire.Value);
        var deletingMethod = delete.Method as IMethodSymbol;
        switch (value)
        {
            case ILiteralOperation:
                return value.Syntax.ToString();
            case IFieldReferenceOperation { Field: var field }:
                return field.IsStatic || deletingMethod is { IsStatic: false } ? value.Syntax.ToString() : null;
            case IPropertyReferenceOperation { Property: var property, Arguments.Length: 0 }:
                return property.IsStatic || deletingMethod is { IsStatic: false } ? value.Syntax.ToString() : null;
            case IParameterReferenceOperation { Parameter.Name: var name }:
                return deletingMethod?.Parameters.Any(p => p.Name == name) == true ? name : null;
            default:
                return null;
        }
    }

    private static bool IsResultUsed(IOperation invocation)
    {
        var current = invocation;
        while (current.Parent is IAwaitOperation or IConversionOperation or IParenthesizedOperation
               || current.Parent is IInvocationOperation { TargetMethod.Name: "ConfigureAwait" })
        {
            current = current.Parent;
        }

        return current.Parent is not (IExpressionStatementOperation or ISimpleAssignmentOperation { Target: IDiscardOperation });
    }

    private static IOperation? Argument(IInvocationOperation invocation, string parameter)
        => invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == parameter) is { ArgumentKind: not ArgumentKind.DefaultValue } argument
            ? argument.Value
            : null;

    /// <summary>The keys of a key argument: itself, or the elements of an array written in place.</summary>
    private static IEnumerable<IOperation> KeysOf(IOperation? keys)
    {
        if (keys is null)
        {
            yield break;
        }

        var unwrapped = RedisKeyIdentity.Unwrap(keys);
        if (unwrapped is IArrayCreationOperation { Initializer: { } initializer })
        {
            foreach (var element in initializer.ElementValues)
            {
                yield return element;
            }
        }
        else if (unwrapped is ICollectionExpressionOperation collection)
        {
            foreach (var element in collection.Elements)
            {
                yield return element;
            }
        }
        else if (unwrapped.Type is not IArrayTypeSymbol)
        {
            yield return keys;
        }
    }

    private static INamedTypeSymbol? ContainingType(ISymbol symbol)
        => symbol as INamedTypeSymbol ?? symbol.ContainingType;

    private sealed record KeyCall(IInvocationOperation Invocation, RedisKeyIdentity Key, ISymbol Method);

    private sealed record LockSet(IInvocationOperation Invocation, RedisKeyIdentity Key, IOperation? Value, ISymbol Method, bool HasExpiry, bool ResultUsed);

    /// <summary>The calls of one type, collected from concurrent operation callbacks.</summary>
    private sealed class TypeCalls
    {
        private readonly List<LockSet> _sets = new();
        private readonly List<KeyCall> _expires = new();
        private readonly List<KeyCall> _deletes = new();

        public void Add(LockSet set)
        {
            lock (_sets)
            {
                _sets.Add(set);
            }
        }

        public void Add(KeyCall call, bool expire)
        {
            lock (_sets)
            {
                (expire ? _expires : _deletes).Add(call);
            }
        }

        public (LockSet[] Sets, KeyCall[] Expires, KeyCall[] Deletes) Snapshot()
        {
            lock (_sets)
            {
                return (_sets.ToArray(), _expires.ToArray(), _deletes.ToArray());
            }
        }
    }
}

/// <summary>The StackExchange.Redis types the Redis rules need, resolved once per compilation.</summary>
internal sealed class RedisSymbols
{
    private readonly INamedTypeSymbol _databaseAsync;
    private readonly INamedTypeSymbol? _when;
    private readonly INamedTypeSymbol? _valueCondition;
    private readonly INamedTypeSymbol? _expiration;

    private RedisSymbols(INamedTypeSymbol databaseAsync, INamedTypeSymbol? when, INamedTypeSymbol? valueCondition, INamedTypeSymbol? expiration)
    {
        _databaseAsync = databaseAsync;
        _when = when;
        _valueCondition = valueCondition;
        _expiration = expiration;
    }

    public static RedisSymbols? TryCreate(Compilation compilation)
        => compilation.GetTypeByMetadataName("StackExchange.Redis.IDatabaseAsync") is { } databaseAsync
            ? new RedisSymbols(databaseAsync,
                compilation.GetTypeByMetadataName("StackExchange.Redis.When"),
                compilation.GetTypeByMetadataName("StackExchange.Redis.ValueCondition"),
                compilation.GetTypeByMetadataName("StackExchange.Redis.Expiration"))
            : null;

    /// <summary>Whether the method is declared by IDatabaseAsync or a type that implements it (IDatabase, IBatch, ITransaction).</summary>
    public bool IsDatabaseMethod(IMethodSymbol method)
    {
        var type = method.ContainingType;
        return type is not null && (SymbolEqualityComparer.Default.Equals(type, _databaseAsync) || type.AllInterfaces.Contains(_databaseAsync, SymbolEqualityComparer.Default));
    }

    /// <summary>Whether a <c>when</c> argument is When.NotExists or ValueCondition.NotExists.</summary>
    public bool IsNotExists(IOperation? when)
    {
        if (when is null)
        {
            return false;
        }

        return RedisKeyIdentity.Unwrap(when) switch
        {
            IFieldReferenceOperation { Field: { Name: "NotExists" } field } => SymbolEqualityComparer.Default.Equals(field.ContainingType, _when),
            IPropertyReferenceOperation { Property: { Name: "NotExists" } property } => SymbolEqualityComparer.Default.Equals(property.ContainingType, _valueCondition),
            _ => false,
        };
    }

    /// <summary>Whether a <c>when</c> argument of a delete is absent or unconditional (When.Always, ValueCondition.Always).</summary>
    public bool IsAlways(IOperation? when)
        => when is null || RedisKeyIdentity.Unwrap(when) switch
        {
            IFieldReferenceOperation { Field.Name: "Always" } => true,
            IPropertyReferenceOperation { Property.Name: "Always" } => true,
            IDefaultValueOperation => true,
            _ => false,
        };

    /// <summary>Whether an <c>expiry</c> argument gives the key an expiry (not absent, null, default or Expiration.Default/Persist/KeepTtl).</summary>
    public bool HasExpiry(IOperation? expiry)
    {
        if (expiry is null)
        {
            return false;
        }

        var value = RedisKeyIdentity.Unwrap(expiry);
        if (value.ConstantValue is { HasValue: true, Value: null } || value is IDefaultValueOperation)
        {
            return false;
        }

        return value is not IPropertyReferenceOperation { Property: { Name: "Default" or "Persist" or "KeepTtl" } property }
            || !SymbolEqualityComparer.Default.Equals(property.ContainingType, _expiration);
    }
}
