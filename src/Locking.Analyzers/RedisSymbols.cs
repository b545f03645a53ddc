using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>The StackExchange.Redis types the Redis rules need, resolved once per compilation.</summary>
internal sealed class RedisSymbols
{
    private readonly INamedTypeSymbol _databaseAsync;
    private readonly INamedTypeSymbol? _when;
    private readonly INamedTypeSymbol? _valueCondition;
    private readonly INamedTypeSymbol? _expiration;
    private readonly INamedTypeSymbol? _condition;
    private readonly INamedTypeSymbol? _luaScript;
    private readonly INamedTypeSymbol? _loadedLuaScript;

    private RedisSymbols(Compilation compilation, INamedTypeSymbol databaseAsync)
    {
        _databaseAsync = databaseAsync;
        _when = compilation.GetTypeByMetadataName("StackExchange.Redis.When");
        _valueCondition = compilation.GetTypeByMetadataName("StackExchange.Redis.ValueCondition");
        _expiration = compilation.GetTypeByMetadataName("StackExchange.Redis.Expiration");
        _condition = compilation.GetTypeByMetadataName("StackExchange.Redis.Condition");
        _luaScript = compilation.GetTypeByMetadataName("StackExchange.Redis.LuaScript");
        _loadedLuaScript = compilation.GetTypeByMetadataName("StackExchange.Redis.LoadedLuaScript");
    }

    public static RedisSymbols? TryCreate(Compilation compilation)
        => compilation.GetTypeByMetadataName("StackExchange.Redis.IDatabaseAsync") is { } databaseAsync ? new RedisSymbols(compilation, databaseAsync) : null;

    /// <summary>Whether the method is declared by IDatabaseAsync or a type that implements it (IDatabase, IBatch, ITransaction).</summary>
    public bool IsDatabaseMethod(IMethodSymbol method)
    {
        var type = method.ContainingType;
        return type is not null && (SymbolEqualityComparer.Default.Equals(type, _databaseAsync) || type.AllInterfaces.Contains(_databaseAsync, SymbolEqualityComparer.Default));
    }

    /// <summary>Whether the method is LuaScript.Evaluate / LoadedLuaScript.Evaluate (and their Async forms).</summary>
    public bool IsLuaScriptMethod(IMethodSymbol method)
        => method.ContainingType is { } type && (SymbolEqualityComparer.Default.Equals(type, _luaScript) || SymbolEqualityComparer.Default.Equals(type, _loadedLuaScript));

    public bool IsCondition(INamedTypeSymbol? type) => SymbolEqualityComparer.Default.Equals(type, _condition);

    /// <summary>Whether a <c>when</c> argument is When.NotExists or ValueCondition.NotExists.</summary>
    public bool IsNotExists(IOperation? when) => IsNamed(when, "NotExists");

    /// <summary>Whether a <c>when</c> argument is When.Exists or ValueCondition.Exists (SET XX).</summary>
    public bool IsExists(IOperation? when) => IsNamed(when, "Exists");

    private bool IsNamed(IOperation? when, string name)
        => when is not null && RedisKeyIdentity.Unwrap(when) switch
        {
            IFieldReferenceOperation { Field: var field } => field.Name == name && SymbolEqualityComparer.Default.Equals(field.ContainingType, _when),
            IPropertyReferenceOperation { Property: var property } => property.Name == name && SymbolEqualityComparer.Default.Equals(property.ContainingType, _valueCondition),
            _ => false,
        };

    /// <summary>Whether a <c>when</c> argument of a set or delete is absent or unconditional (When.Always, ValueCondition.Always).</summary>
    public bool IsAlways(IOperation? when)
        => when is null || RedisKeyIdentity.Unwrap(when) switch
        {
            IFieldReferenceOperation { Field.Name: "Always" } => true,
            IPropertyReferenceOperation { Property.Name: "Always" } => true,
            IDefaultValueOperation => true,
            _ => false,
        };

    /// <summary>For ValueCondition.Equal(value) (or DigestEqual): the value the key must hold; otherwise null.</summary>
    public IOperation? ValueConditionOperand(IOperation? when)
        => when is not null && RedisKeyIdentity.Unwrap(when) is IInvocationOperation { TargetMethod: { Name: "Equal" or "DigestEqual" } method, Arguments: [var argument, ..] }
           && SymbolEqualityComparer.Default.Equals(method.ContainingType, _valueCondition)
            ? argument.Value
            : null;

    /// <summary>Whether an <c>expiry</c> argument gives the key an expiry (not absent, null, default or Expiration.Default/Persist/KeepTtl).</summary>
    public bool HasExpiry(IOperation? expiry)
    {
        if (expiry is null || IsNoExpiry(expiry))
        {
            return false;
        }

        var value = RedisKeyIdentity.Unwrap(expiry);
        return value is not IPropertyReferenceOperation { Property: { Name: "Default" or "Persist" or "KeepTtl" } property }
            || !SymbolEqualityComparer.Default.Equals(property.ContainingType, _expiration);
    }

    /// <summary>Whether an expiry argument is null or default: KeyExpire then removes the key's TTL.</summary>
    public bool IsNoExpiry(IOperation expiry)
    {
        var value = RedisKeyIdentity.Unwrap(expiry);
        return value.ConstantValue is { HasValue: true, Value: null } || value is IDefaultValueOperation;
    }

    /// <summary>
    /// Whether an expiry has already passed when it arrives: TimeSpan.Zero, TimeSpan.FromX(n) with n &lt;= 0,
    /// new TimeSpan(0), a negative TimeSpan, DateTime.MinValue, DateTime.UtcNow / Now (optionally with a non-positive Add).
    /// </summary>
    public static bool IsPast(IOperation expiry)
    {
        var value = RedisKeyIdentity.Unwrap(expiry);
        switch (value)
        {
            case IFieldReferenceOperation { Field: { Name: "Zero" or "MinValue", ContainingType.Name: "TimeSpan" } }:
            case IFieldReferenceOperation { Field: { Name: "MinValue", ContainingType.Name: "DateTime" } }:
            case IPropertyReferenceOperation { Property: { Name: "UtcNow" or "Now", ContainingType.Name: "DateTime" } }:
                return true;
            case IInvocationOperation { TargetMethod: { Name: var name, ContainingType.Name: "TimeSpan", IsStatic: true }, Arguments: [var amount, ..] } when name.StartsWith("From", StringComparison.Ordinal):
                return IsNotPositive(amount.Value);
            case IInvocationOperation { TargetMethod: { Name: var name, ContainingType.Name: "DateTime" }, Instance: { } instance, Arguments: [var amount] } when name.StartsWith("Add", StringComparison.Ordinal):
                return IsPast(instance) && (amount.Value.Type?.Name == "TimeSpan" ? IsPast(amount.Value) || IsNegated(amount.Value) : IsNotPositive(amount.Value));
            case IInvocationOperation { TargetMethod: { Name: "Subtract", ContainingType.Name: "DateTime" }, Instance: { } instance }:
                return IsPast(instance);
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Subtract, LeftOperand: var left, Type.Name: "DateTime" }:
                return IsPast(left);
            case IObjectCreationOperation { Type.Name: "TimeSpan", Arguments: var arguments } when arguments.Length > 0:
                foreach (var argument in arguments)
                {
                    if (!IsNotPositive(argument.Value) || argument.Value.ConstantValue is not { HasValue: true })
                    {
                        return false;
                    }
                }

                return true;
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus, Type.Name: "TimeSpan" }:
                return true;
            default:
                return false;
        }
    }

    private static bool IsNegated(IOperation operation) => RedisKeyIdentity.Unwrap(operation) is IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus };

    private static bool IsNotPositive(IOperation amount)
        => RedisKeyIdentity.Unwrap(amount) is IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus }
           || (amount.ConstantValue is { HasValue: true, Value: var value and not null } && Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) <= 0);
}
