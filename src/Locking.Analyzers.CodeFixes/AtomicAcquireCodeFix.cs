using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Simplification;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace Locking.Analyzers.CodeFixes;

/// <summary>
/// LOCK004: moves the expiry of the separate KeyExpire into the StringSet that sets the key (one atomic
/// SET NX PX, or SET PX), and removes the KeyExpire. For a counter lock (<c>StringIncrement(key) == 1</c>, then
/// KeyExpire), takes the lock with one SET NX PX instead. The HSETNX and remove-the-TTL shapes have no
/// mechanical fix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AtomicAcquireCodeFix)), Shared]
public sealed class AtomicAcquireCodeFix : DocumentCodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.NonAtomicAcquire.Id);

    /// <inheritdoc />
    protected override string Title => "Set the key with its expiry in one command";

    /// <inheritdoc />
    protected override bool CanFix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => Analyze(root, model, diagnostic, cancellationToken) is not null;

    /// <inheritdoc />
    protected override void Fix(DocumentEditor editor, SyntaxNode root, SemanticModel model, Diagnostic diagnostic, FixSession session, CancellationToken cancellationToken)
    {
        var plan = Analyze(root, model, diagnostic, cancellationToken)!;
        var expiry = plan.Expiry.WithoutTrivia();
        var set = plan.Set;
        if (plan.Comparison is { } comparison)
        {
            ReplaceIncrement(editor, plan, comparison, expiry);
        }
        else
        {
            MoveExpiry(editor, set, plan.ExpiryArgument, expiry);
        }

        // Removing the EXPIRE may empty an `if (acquired) { ... }` whose condition does nothing else: remove that too.
        if (plan.ExpireStatement.Parent is BlockSyntax { Statements.Count: 1, Parent: IfStatementSyntax { Else: null, Condition: var condition } ifStatement }
            && IsPlainRead(condition))
        {
            editor.RemoveNode(ifStatement);
        }
        else
        {
            editor.RemoveNode(plan.ExpireStatement);
        }
    }

    /// <summary><c>INCR(key) == 1</c> becomes <c>StringSet(key, 1, expiry, When.NotExists)</c>; <c>!= 1</c> and <c>&gt; 1</c> its negation.</summary>
    private static void ReplaceIncrement(DocumentEditor editor, Plan plan, BinaryExpressionSyntax comparison, ExpressionSyntax expiry)
    {
        var increment = plan.Set;
        var access = (MemberAccessExpressionSyntax)increment.Expression;
        var name = access.Name.Identifier.ValueText.EndsWith("Async", System.StringComparison.Ordinal) ? "StringSetAsync" : "StringSet";
        var key = increment.ArgumentList.Arguments[0].Expression.WithoutTrivia();
        ExpressionSyntax set = InvocationExpression(access.WithName(IdentifierName(name)), ArgumentList(SeparatedList(new[]
        {
            Argument(key),
            Argument(LiteralExpression(SyntaxKind.NumericLiteralExpression, Literal(1))),
            Argument(expiry),
            Argument(ParseExpression("global::StackExchange.Redis.When.NotExists").WithAdditionalAnnotations(Simplifier.Annotation)),
        })));
        if (increment.Parent is AwaitExpressionSyntax)
        {
            set = AwaitExpression(set);
        }

        if (!comparison.IsKind(SyntaxKind.EqualsExpression))
        {
            set = PrefixUnaryExpression(SyntaxKind.LogicalNotExpression, set);
        }

        editor.ReplaceNode(comparison, set.WithTriviaFrom(comparison).WithAdditionalAnnotations(Formatter.Annotation));
    }

    private static void MoveExpiry(DocumentEditor editor, InvocationExpressionSyntax set, ArgumentSyntax? expiryArgument, ExpressionSyntax expiry)
    {
        ArgumentListSyntax arguments;
        if (expiryArgument is { } existing)
        {
            arguments = set.ArgumentList.ReplaceNode(existing, existing.WithExpression(expiry));
        }
        else
        {
            // Positional right after key and value when what follows is named; named otherwise.
            var list = set.ArgumentList.Arguments;
            var positional = list.Count >= 2 && list.Skip(2).All(a => a.NameColon is not null) && list.Take(2).All(a => a.NameColon is null);
            arguments = positional
                ? set.ArgumentList.WithArguments(list.Insert(2, Argument(expiry)))
                : set.ArgumentList.WithArguments(list.Add(Argument(expiry).WithNameColon(NameColon("expiry"))));
        }

        editor.ReplaceNode(set, set.WithArgumentList(arguments));
    }

    private sealed record Plan(InvocationExpressionSyntax Set, ArgumentSyntax? ExpiryArgument, ExpressionSyntax Expiry, StatementSyntax ExpireStatement, BinaryExpressionSyntax? Comparison);

    private static Plan? Analyze(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        diagnostic.Properties.TryGetValue(RedisLockKeyAnalyzer.ShapeProperty, out var shape);
        if (shape is not (RedisLockKeyAnalyzer.AcquireShapes.SetThenExpire or RedisLockKeyAnalyzer.AcquireShapes.IncrementThenExpire)
            || diagnostic.AdditionalLocations.Count != 1
            || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax set
            || root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax expire
            || model.GetOperation(set, cancellationToken) is not IInvocationOperation setOperation
            || model.GetOperation(expire, cancellationToken) is not IInvocationOperation expireOperation)
        {
            return null;
        }

        // The EXPIRE must be a statement of its own (its result unused), with a TimeSpan expiry.
        var statement = (expire.Parent is AwaitExpressionSyntax awaited ? awaited.Parent : expire.Parent) as ExpressionStatementSyntax;
        var expiry = expireOperation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "expiry");
        if (statement?.Parent is not BlockSyntax || expiry is null || expireOperation.Arguments.Any(a => a.Parameter?.Name is "when" or "flags" && a.ArgumentKind != ArgumentKind.DefaultValue)
            || Unwrap(expiry.Value).Type is not { } expiryType || !IsTimeSpan(expiryType))
        {
            return null;
        }

        // Everything the expiry reads must already exist where the SET is.
        var expiryExpression = (ExpressionSyntax)Unwrap(expiry.Value).Syntax;
        foreach (var identifier in expiryExpression.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>())
        {
            if (model.GetSymbolInfo(identifier, cancellationToken).Symbol is ILocalSymbol local
                && local.DeclaringSyntaxReferences.Any(r => r.Span.Start > set.SpanStart))
            {
                return null;
            }
        }

        if (shape == RedisLockKeyAnalyzer.AcquireShapes.IncrementThenExpire)
        {
            // Only `INCR(key) == 1` (or != 1, > 1) on the key alone: then "got 1" means "took the lock".
            var compared = set.Parent is AwaitExpressionSyntax awaitedIncrement ? (ExpressionSyntax)awaitedIncrement : set;
            return setOperation.Arguments.All(a => a.Parameter?.Name == "key" || a.ArgumentKind == ArgumentKind.DefaultValue || a.Value.ConstantValue is { HasValue: true, Value: 1L or 1 })
                   && set.Expression is MemberAccessExpressionSyntax
                   && compared.Parent is BinaryExpressionSyntax comparison
                   && comparison.Kind() is SyntaxKind.EqualsExpression or SyntaxKind.NotEqualsExpression or SyntaxKind.GreaterThanExpression
                   && comparison.Left == compared
                   && comparison.Right is LiteralExpressionSyntax { Token.Value: 1 }
                ? new Plan(set, null, expiryExpression, statement, comparison)
                : null;
        }

        var setExpiry = setOperation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "expiry");
        var expiryArgument = setExpiry is { ArgumentKind: not ArgumentKind.DefaultValue } ? setExpiry.Syntax as ArgumentSyntax : null;
        if (setExpiry is null || (setExpiry.ArgumentKind != ArgumentKind.DefaultValue && expiryArgument is null))
        {
            return null;
        }

        return new Plan(set, expiryArgument, expiryExpression, statement, null);
    }

    private static bool IsTimeSpan(ITypeSymbol type)
    {
        var value = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T, TypeArguments: [var inner] } ? inner : type;
        return value is { Name: "TimeSpan", ContainingNamespace.Name: "System" };
    }

    private static bool IsPlainRead(ExpressionSyntax condition) => condition switch
    {
        IdentifierNameSyntax => true,
        PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.LogicalNotExpression, Operand: var operand } => IsPlainRead(operand),
        ParenthesizedExpressionSyntax { Expression: var inner } => IsPlainRead(inner),
        _ => false,
    };

    private static IOperation Unwrap(IOperation operation)
    {
        while (operation is IConversionOperation { IsImplicit: true } conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }
}
