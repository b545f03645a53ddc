using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>
/// What a Redis key argument is, as far as the code says. Two keys are the same lock key when they come from
/// the same constant, field, property or key-building method, or are built (interpolation, concatenation,
/// string.Format) from the same literal parts and the same members in the same places: <c>$"seat:{id}"</c> and
/// <c>"seat:" + seat</c> match, <c>"user:" + id + ":lock"</c> and <c>"user:" + id + ":profile"</c> do not. A
/// parameter is only ever the same key as itself, in its own method: two methods that both name a parameter
/// <c>key</c> say nothing about each other's keys.
/// </summary>
internal sealed class RedisKeyIdentity
{
    private const int MaxHops = 3;

    /// <summary>Marks a hole (a value that changes per call) in <see cref="Template"/>.</summary>
    private const char Hole = '\u0000';

    /// <summary>Brackets a member or helper that stands in a template (the same member in the same place matches).</summary>
    private const char Fixed = '\u0001';

    private RedisKeyIdentity(ISymbol? anchor, string? text, string? template, bool isConstant, bool variesPerCall, bool holdsRandom, ImmutableArray<ISymbol> sources,
        ImmutableHashSet<string> holes, string display)
    {
        Holes = holes;
        HoldsRandom = holdsRandom;
        Anchor = anchor;
        Text = text;
        Template = template;
        IsConstant = isConstant;
        VariesPerCall = variesPerCall;
        Sources = sources;
        Display = display;
    }

    /// <summary>The symbol the key is (a field, property, helper method, or a parameter or local in its own method), or null.</summary>
    public ISymbol? Anchor { get; }

    /// <summary>For keys with neither anchor nor template: the expression text, scoped to its method.</summary>
    public string? Text { get; }

    /// <summary>The literal parts and fixed members of the key with a hole for each value that changes, or null.</summary>
    public string? Template { get; }

    /// <summary>Whether the whole key is one constant.</summary>
    public bool IsConstant { get; }

    /// <summary>Whether the key is built from the call's own values (parameters, locals): each call may lock another key.</summary>
    public bool VariesPerCall { get; }

    /// <summary>
    /// Whether the key holds a value made at random for the call ($"session:{Guid.NewGuid()}"): such a key names
    /// something new (a session, an upload), not a lock that others contend for.
    /// </summary>
    public bool HoldsRandom { get; }

    /// <summary>The parameters and locals the key is built from.</summary>
    public ImmutableArray<ISymbol> Sources { get; }

    /// <summary>The expressions that fill the key's holes, as written (without whitespace): "order.Id", "tenant".</summary>
    public ImmutableHashSet<string> Holes { get; }

    /// <summary>The key as written at the call, for messages.</summary>
    public string Display { get; }

    /// <summary>The template as a reader would write it ("seat:{}"), for messages and tests.</summary>
    public string? TemplateDisplay => Template?.Replace(Hole.ToString(), "{}").Replace(Fixed.ToString(), "");

    public bool Matches(RedisKeyIdentity other)
    {
        if (Anchor is not null && SymbolEqualityComparer.Default.Equals(Anchor, other.Anchor))
        {
            return true;
        }

        if (Text is not null && Text == other.Text)
        {
            return true;
        }

        return Template is not null && Template == other.Template && HasFixedPart(Template);
    }

    /// <summary>
    /// Whether the key sits under a lock prefix: a complete segment "lock" or "locks" in its literal text
    /// ("lock:orders/1", "billing:lock:" + id, $"orders:{id}:lock"), as Locking's own Redis store and most
    /// hand-written locks name their keys. Segments are separated by ':', '/', '.', '_', '-', '|' or '#'.
    /// </summary>
    public bool IsUnderLockPrefix
    {
        get
        {
            if (Template is null)
            {
                return false;
            }

            var start = 0;
            for (var i = 0; i <= Template.Length; i++)
            {
                var end = i == Template.Length;
                var c = end ? '\0' : Template[i];
                if (end || IsSeparator(c) || c == Hole || c == Fixed)
                {
                    // A segment counts when it is complete: bounded by separators or the ends, not by a hole.
                    var bounded = (start == 0 || IsSeparator(Template[start - 1])) && (end || IsSeparator(c));
                    var length = i - start;
                    if (bounded && (length == 4 || length == 5)
                        && string.Compare(Template, start, "locks", 0, length, StringComparison.OrdinalIgnoreCase) == 0)
                    {
                        return true;
                    }

                    start = i + 1;
                }
            }

            return false;
        }
    }

    private static bool IsSeparator(char c) => c is ':' or '/' or '.' or '_' or '-' or '|' or '#';

    private static bool HasFixedPart(string template)
    {
        foreach (var c in template)
        {
            if (c != Hole)
            {
                return true;
            }
        }

        return false;
    }

    public static RedisKeyIdentity Of(IOperation key, LocalValues locals)
    {
        var display = key.Syntax.ToString();
        var builder = new TemplateBuilder(locals);
        var value = Unwrap(key);
        for (var hops = MaxHops; hops > 0 && value is ILocalReferenceOperation local && locals.SingleValue(local) is { } initializer; hops--)
        {
            // The key's locals are its sources too: an owner read from them is the key's own value.
            builder.Sources.Add(local.Local);
            value = Unwrap(initializer);
        }

        builder.Add(value, MaxHops, topLevel: true);
        var template = builder.Complete ? builder.ToString() : null;
        var sources = builder.Sources.ToImmutableArray();

        ISymbol? anchor = null;
        string? text = null;
        switch (value)
        {
            case IFieldReferenceOperation field when IsOwnMember(field.Instance) && !field.Field.IsConst:
                anchor = field.Field.OriginalDefinition;
                break;
            case IPropertyReferenceOperation { Arguments.Length: 0 } property when IsOwnMember(property.Instance):
                anchor = property.Property.OriginalDefinition;
                break;
            case IParameterReferenceOperation parameter:
                anchor = parameter.Parameter;
                break;
            case ILocalReferenceOperation local:
                anchor = local.Local;
                break;
            case IInvocationOperation call when call.TargetMethod.DeclaringSyntaxReferences.Length > 0:
                // A key helper of the user's (LockKey(id)): the helper is the identity, whatever its argument.
                anchor = call.TargetMethod.OriginalDefinition;
                break;
        }

        if (anchor is null && template is null)
        {
            // Nothing better than the text: the same text in the same method is the same key.
            text = Normalize(value.Syntax.ToString()) + "@" + value.Syntax.SyntaxTree.FilePath + ":" + MethodStart(value.Syntax);
        }

        var isConstant = value.ConstantValue is { HasValue: true, Value: string };
        return new RedisKeyIdentity(anchor, text, template, isConstant, builder.Varies, builder.HoldsRandom, sources, builder.Holes.ToImmutableHashSet(), display);
    }

    /// <summary>Whether a member is read from this instance or statically (so it is the type's own, fixed member).</summary>
    internal static bool IsOwnMember(IOperation? instance)
        => instance is null or IInstanceReferenceOperation;

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

    /// <summary>The text of a readonly field initialized with a string literal (a RedisKey cannot be const).</summary>
    internal static string? ReadOnlyLiteral(IFieldSymbol field)
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

    private static int MethodStart(SyntaxNode node)
    {
        for (var current = node; current is not null; current = current.Parent)
        {
            if (current is BaseMethodDeclarationSyntax or AccessorDeclarationSyntax or LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax)
            {
                return current.SpanStart;
            }
        }

        return 0;
    }

    internal static string Normalize(string text)
    {
        var normalized = new string(text.Where(c => !char.IsWhiteSpace(c)).ToArray());
        return normalized.StartsWith("this.", StringComparison.Ordinal) ? normalized.Substring(5) : normalized;
    }

    /// <summary>Flattens a key expression into literal text, fixed members and holes.</summary>
    private sealed class TemplateBuilder(LocalValues locals)
    {
        private readonly StringBuilder _text = new();

        public HashSet<ISymbol> Sources { get; } = new(SymbolEqualityComparer.Default);

        public HashSet<string> Holes { get; } = new(StringComparer.Ordinal);

        /// <summary>False when the key is one opaque value (a parameter, a local of unknown value): no template.</summary>
        public bool Complete { get; private set; } = true;

        public bool Varies { get; private set; }

        public bool HoldsRandom { get; private set; }

        public override string ToString() => _text.ToString();

        public void Add(IOperation operation, int hops, bool topLevel = false)
        {
            operation = Unwrap(operation);
            if (operation.ConstantValue is { HasValue: true, Value: var constant })
            {
                _text.Append(Convert.ToString(constant, CultureInfo.InvariantCulture));
                return;
            }

            switch (operation)
            {
                case IInterpolatedStringOperation interpolated:
                    foreach (var part in interpolated.Parts)
                    {
                        if (part is IInterpolatedStringTextOperation { Text.ConstantValue: { HasValue: true, Value: string text } })
                        {
                            _text.Append(text);
                        }
                        else if (part is IInterpolationOperation { Expression: var expression, Alignment: null, FormatString: null })
                        {
                            Add(expression, hops);
                        }
                        else
                        {
                            AddHole(part);
                        }
                    }

                    return;
                case IBinaryOperation { OperatorKind: BinaryOperatorKind.Add, Type.SpecialType: SpecialType.System_String } add:
                    Add(add.LeftOperand, hops);
                    Add(add.RightOperand, hops);
                    return;
                case IInvocationOperation { TargetMethod: { Name: "Concat", ContainingType.SpecialType: SpecialType.System_String } } concat
                    when concat.Arguments.All(a => a.Value.Type?.SpecialType is SpecialType.System_String or SpecialType.System_Object):
                    foreach (var argument in concat.Arguments)
                    {
                        Add(argument.Value, hops);
                    }

                    return;
                case IInvocationOperation { TargetMethod: { Name: "Format", ContainingType.SpecialType: SpecialType.System_String } } format
                    when format.Arguments.FirstOrDefault(a => a.Parameter?.Name == "format")?.Value.ConstantValue is { HasValue: true, Value: string pattern }:
                    AddFormat(pattern, format, hops);
                    return;
                case IInvocationOperation { TargetMethod.Name: "ToString", Instance: { } instance, Arguments.Length: 0 }:
                    Add(instance, hops);
                    return;
                case IFieldReferenceOperation field when IsOwnMember(field.Instance):
                    if (ReadOnlyLiteral(field.Field) is { } literal)
                    {
                        _text.Append(literal);
                    }
                    else
                    {
                        AddFixed("m:" + field.Field.OriginalDefinition.ToDisplayString(), topLevel);
                    }

                    return;
                case IPropertyReferenceOperation { Arguments.Length: 0 } property when IsOwnMember(property.Instance):
                    AddFixed("m:" + property.Property.OriginalDefinition.ToDisplayString(), topLevel);
                    return;
                case ILocalReferenceOperation local:
                    if (hops > 0 && locals.SingleValue(local) is { } value)
                    {
                        Sources.Add(local.Local);
                        Add(value, hops - 1, topLevel);
                        return;
                    }

                    AddHole(operation, topLevel);
                    return;
                case IInvocationOperation call when call.TargetMethod.DeclaringSyntaxReferences.Length > 0 && !topLevel:
                    // A helper inside a bigger key: the helper in this place, fed by the call's values.
                    _text.Append(Fixed).Append("c:").Append(call.TargetMethod.OriginalDefinition.ToDisplayString()).Append(Fixed);
                    foreach (var argument in call.Arguments)
                    {
                        CollectSources(argument.Value);
                    }

                    return;
                case IInvocationOperation call when call.TargetMethod.DeclaringSyntaxReferences.Length > 0:
                    // A key helper: its own body's template when it is one expression in this file.
                    foreach (var argument in call.Arguments)
                    {
                        CollectSources(argument.Value);
                    }

                    if (hops > 0 && HelperBody(call) is { } body)
                    {
                        Add(body, hops - 1);
                    }
                    else
                    {
                        Complete = false;
                    }

                    return;
                default:
                    AddHole(operation, topLevel);
                    return;
            }
        }

        private void AddFormat(string pattern, IInvocationOperation format, int hops)
        {
            var arguments = format.Arguments.Where(a => a.Parameter?.Name != "format" && a.Parameter?.Type.Name != "IFormatProvider").ToList();
            var values = arguments.Count == 1 && Unwrap(arguments[0].Value) is IArrayCreationOperation { Initializer: { } initializer }
                ? initializer.ElementValues.ToList()
                : arguments.Select(a => a.Value).ToList();
            for (var i = 0; i < pattern.Length; i++)
            {
                var c = pattern[i];
                if ((c == '{' || c == '}') && i + 1 < pattern.Length && pattern[i + 1] == c)
                {
                    _text.Append(c);
                    i++;
                }
                else if (c == '{')
                {
                    var close = pattern.IndexOf('}', i);
                    var spec = close < 0 ? "" : pattern.Substring(i + 1, close - i - 1);
                    if (int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < values.Count)
                    {
                        Add(values[index], hops);
                    }
                    else
                    {
                        AddHole(format);
                    }

                    i = close < 0 ? pattern.Length : close;
                }
                else
                {
                    _text.Append(c);
                }
            }
        }

        private void AddFixed(string member, bool topLevel)
        {
            if (topLevel)
            {
                // A key that is just one member: its identity is the member (the anchor), not a template.
                Complete = false;
                return;
            }

            _text.Append(Fixed).Append(member).Append(Fixed);
        }

        private void AddHole(IOperation operation, bool topLevel = false)
        {
            _text.Append(Hole);
            Complete &= !topLevel;
            CollectSources(operation);
        }

        private void CollectSources(IOperation operation)
        {
            Holes.Add(Normalize(Unwrap(operation).Syntax.ToString()));
            foreach (var node in operation.DescendantsAndSelf())
            {
                switch (node)
                {
                    case IInvocationOperation call when OwnerClassifier.IsRandom(call.TargetMethod):
                        HoldsRandom = true;
                        break;
                    case IParameterReferenceOperation parameter:
                        Sources.Add(parameter.Parameter);
                        Varies = true;
                        break;
                    case ILocalReferenceOperation local:
                        Sources.Add(local.Local);
                        Varies = true;
                        if (locals.SingleValue(local) is { } value && !ReferenceEquals(value, operation))
                        {
                            foreach (var inner in value.DescendantsAndSelf())
                            {
                                if (inner is IParameterReferenceOperation p)
                                {
                                    Sources.Add(p.Parameter);
                                }
                                else if (inner is IInvocationOperation call && OwnerClassifier.IsRandom(call.TargetMethod))
                                {
                                    HoldsRandom = true;
                                }
                            }
                        }

                        break;
                    case IFieldReferenceOperation { Instance: not (null or IInstanceReferenceOperation) }:
                    case IPropertyReferenceOperation { Instance: not (null or IInstanceReferenceOperation) }:
                        Varies = true;
                        break;
                }
            }
        }

        /// <summary>The one expression a key helper returns, when the helper is declared in the same file as the call.</summary>
        private static IOperation? HelperBody(IInvocationOperation call)
        {
            var model = call.SemanticModel;
            var references = call.TargetMethod.DeclaringSyntaxReferences;
            if (model is null || references.Length != 1 || references[0].SyntaxTree != model.SyntaxTree)
            {
                return null;
            }

            ExpressionSyntax? expression = references[0].GetSyntax() switch
            {
                MethodDeclarationSyntax { ExpressionBody.Expression: var arrow } => arrow,
                MethodDeclarationSyntax { Body.Statements: [ReturnStatementSyntax { Expression: var returned }] } => returned,
                LocalFunctionStatementSyntax { ExpressionBody.Expression: var arrow } => arrow,
                _ => null,
            };
            return expression is null ? null : model.GetOperation(expression);
        }
    }
}

/// <summary>
/// The value of each local of an operation tree that is assigned exactly once (its initializer or its one
/// assignment), found in one walk of the tree the first time a local of it is asked about.
/// </summary>
internal sealed class LocalValues
{
    private readonly Dictionary<IOperation, Dictionary<ILocalSymbol, Assignments>> _byRoot = new();

    public IOperation? SingleValue(ILocalReferenceOperation reference)
    {
        var root = Root(reference);
        Dictionary<ILocalSymbol, Assignments>? values;
        lock (_byRoot)
        {
            if (!_byRoot.TryGetValue(root, out values))
            {
                values = Walk(root);
                _byRoot.Add(root, values);
            }
        }

        return values.TryGetValue(reference.Local, out var assignments) && assignments.Count == 1 ? assignments.Last : null;
    }

    /// <summary>Every value assigned to a local: its initializer and each assignment (null for one the code does not show).</summary>
    public static IEnumerable<IOperation?> AllValues(ILocalReferenceOperation reference)
    {
        foreach (var operation in Root(reference).Descendants())
        {
            if (Assigned(operation) is { } assigned && SymbolEqualityComparer.Default.Equals(assigned.Local, reference.Local))
            {
                yield return assigned.Value;
            }
        }
    }

    private static IOperation Root(IOperation operation)
    {
        while (operation.Parent is not null)
        {
            operation = operation.Parent;
        }

        return operation;
    }

    private static Dictionary<ILocalSymbol, Assignments> Walk(IOperation root)
    {
        var values = new Dictionary<ILocalSymbol, Assignments>(SymbolEqualityComparer.Default);
        foreach (var operation in root.Descendants())
        {
            if (Assigned(operation) is { } assigned)
            {
                values[assigned.Local] = values.TryGetValue(assigned.Local, out var seen)
                    ? new Assignments(seen.Count + 1, null)
                    : new Assignments(1, assigned.Value);
            }
        }

        return values;
    }

    /// <summary>The local an operation gives a value, and the value (null when the code does not show it: out, ref, compound).</summary>
    private static (ILocalSymbol Local, IOperation? Value)? Assigned(IOperation operation) => operation switch
    {
        IVariableDeclaratorOperation declarator when (declarator.Initializer ?? (declarator.Parent as IVariableDeclarationOperation)?.Initializer) is { } initializer
            => (declarator.Symbol, initializer.Value),
        ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } simple => (target.Local, simple.Value),
        IAssignmentOperation { Target: ILocalReferenceOperation target } => (target.Local, null),
        IDeclarationExpressionOperation { Expression: ILocalReferenceOperation declared } => (declared.Local, null),
        IArgumentOperation { Parameter.RefKind: RefKind.Out or RefKind.Ref, Value: ILocalReferenceOperation passed } => (passed.Local, null),
        IIncrementOrDecrementOperation { Target: ILocalReferenceOperation target } => (target.Local, null),
        _ => null,
    };

    private readonly record struct Assignments(int Count, IOperation? Last);
}
