using System;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>
/// What a Redis key argument is, as far as the code says: the same expression, helper method, member or
/// constant prefix means the same key (family). Two keys match when their identity texts are equal or when
/// both start with the same constant prefix.
/// </summary>
internal sealed class RedisKeyIdentity
{
    private const int MaxLocalHops = 3;

    private RedisKeyIdentity(string text, string? prefix, bool isConstant, string display)
    {
        Text = text;
        Prefix = prefix;
        IsConstant = isConstant;
        Display = display;
    }

    /// <summary>The identity: the constant, the member or helper symbol, or the expression without whitespace.</summary>
    public string Text { get; }

    /// <summary>The constant text the key starts with, if any.</summary>
    public string? Prefix { get; }

    /// <summary>Whether the whole key is a constant (then <see cref="Prefix"/> is the whole key).</summary>
    public bool IsConstant { get; }

    /// <summary>The key as written at the call, for messages.</summary>
    public string Display { get; }

    public bool Matches(RedisKeyIdentity other)
        => Text == other.Text || (!string.IsNullOrEmpty(Prefix) && Prefix == other.Prefix && !(IsConstant && other.IsConstant));

    /// <summary>
    /// Whether the key sits under a lock prefix: a complete ':'-separated segment "lock" or "locks" in its constant part
    /// ("lock:orders/1", "billing:lock:" + id), as Locking's own Redis store and most hand-written locks name their keys.
    /// </summary>
    public bool IsUnderLockPrefix
    {
        get
        {
            if (string.IsNullOrEmpty(Prefix))
            {
                return false;
            }

            var segments = Prefix!.Split(':');
            var complete = IsConstant ? segments.Length : segments.Length - 1;
            for (var i = 0; i < complete; i++)
            {
                if (segments[i].Equals("lock", StringComparison.OrdinalIgnoreCase) || segments[i].Equals("locks", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }
    }

    public static RedisKeyIdentity Of(IOperation key)
    {
        var display = key.Syntax.ToString();
        return Resolve(key, display, MaxLocalHops);
    }

    private static RedisKeyIdentity Resolve(IOperation key, string display, int hops)
    {
        var value = Unwrap(key);
        if (value.ConstantValue is { HasValue: true, Value: string constant })
        {
            return new RedisKeyIdentity("\"" + constant, constant, isConstant: true, display);
        }

        switch (value)
        {
            case ILocalReferenceOperation local when hops > 0 && InitializerOf(local) is { } initializer:
                return Resolve(initializer, display, hops - 1);
            case IFieldReferenceOperation field when ReadOnlyLiteral(field.Field) is { } literal:
                return new RedisKeyIdentity("\"" + literal, literal, isConstant: true, display);
            case IFieldReferenceOperation field:
                return new RedisKeyIdentity("member:" + field.Field.OriginalDefinition.ToDisplayString(), null, isConstant: false, display);
            case IPropertyReferenceOperation { Arguments.Length: 0 } property:
                return new RedisKeyIdentity("member:" + property.Property.OriginalDefinition.ToDisplayString(), null, isConstant: false, display);
            case IParameterReferenceOperation parameter:
                return new RedisKeyIdentity("param:" + parameter.Parameter.Name, null, isConstant: false, display);
            case IInvocationOperation call when call.TargetMethod.DeclaringSyntaxReferences.Length > 0:
                // A key helper of the user's (LockKey(id)): the helper is the identity, whatever its argument.
                return new RedisKeyIdentity("call:" + call.TargetMethod.OriginalDefinition.ToDisplayString(), null, isConstant: false, display);
            default:
                return new RedisKeyIdentity("expr:" + Normalize(value.Syntax.ToString()), ConstantPrefix(value), isConstant: false, display);
        }
    }

    /// <summary>The operation under implicit conversions (string to RedisKey) and parentheses.</summary>
    public static IOperation Unwrap(IOperation operation)
    {
        while (true)
        {
            switch (operation)
            {
                case IConversionOperation conversion:
                    operation = conversion.Operand;
                    continue;
                case IParenthesizedOperation parenthesized:
                    operation = parenthesized.Operand;
                    continue;
                default:
                    return operation;
            }
        }
    }

    private static IOperation? InitializerOf(ILocalReferenceOperation reference)
    {
        var root = (IOperation)reference;
        while (root.Parent is not null)
        {
            root = root.Parent;
        }

        IOperation? initializer = null;
        foreach (var operation in root.Descendants())
        {
            switch (operation)
            {
                case IVariableDeclaratorOperation declarator when SymbolEqualityComparer.Default.Equals(declarator.Symbol, reference.Local):
                    initializer = declarator.Initializer?.Value;
                    break;
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } when SymbolEqualityComparer.Default.Equals(target.Local, reference.Local):
                    // Assigned more than once: it is no one expression.
                    return null;
            }
        }

        return initializer;
    }

    /// <summary>The text of a readonly field initialized with a string literal (a RedisKey cannot be const).</summary>
    private static string? ReadOnlyLiteral(IFieldSymbol field)
    {
        if (!field.IsReadOnly || field.DeclaringSyntaxReferences.Length != 1
            || field.DeclaringSyntaxReferences[0].GetSyntax() is not VariableDeclaratorSyntax { Initializer.Value: var initializer })
        {
            return null;
        }

        while (initializer is CastExpressionSyntax or ParenthesizedExpressionSyntax)
        {
            initializer = initializer is CastExpressionSyntax cast ? cast.Expression : ((ParenthesizedExpressionSyntax)initializer).Expression;
        }

        return initializer is LiteralExpressionSyntax literal && literal.IsKind(SyntaxKind.StringLiteralExpression) ? literal.Token.ValueText : null;
    }

    private static string? ConstantPrefix(IOperation value)
    {
        value = Unwrap(value);
        if (value.ConstantValue is { HasValue: true, Value: string constant })
        {
            return constant;
        }

        switch (value)
        {
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } add:
                return ConstantPrefix(add.LeftOperand);
            case IInterpolatedStringOperation interpolated:
                var prefix = string.Concat(interpolated.Parts.TakeWhile(p => p is IInterpolatedStringTextOperation)
                    .Select(p => ((IInterpolatedStringTextOperation)p).Text.ConstantValue.Value as string));
                return prefix.Length == 0 ? null : prefix;
            case IInvocationOperation { TargetMethod: { Name: "Format", ContainingType.SpecialType: SpecialType.System_String } } format
                when format.Arguments.FirstOrDefault(a => a.Parameter?.Name == "format")?.Value.ConstantValue is { HasValue: true, Value: string pattern }:
                var brace = pattern.IndexOf('{');
                return brace < 0 ? pattern : brace == 0 ? null : pattern.Substring(0, brace);
            default:
                return null;
        }
    }

    private static string Normalize(string text)
    {
        var chars = text.Where(c => !char.IsWhiteSpace(c)).ToArray();
        var normalized = new string(chars);
        return normalized.StartsWith("this.", StringComparison.Ordinal) ? normalized.Substring(5) : normalized;
    }
}
