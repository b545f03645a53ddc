using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace Locking.Analyzers.CodeFixes;

/// <summary>
/// Gives a lock acquisition its own owner value, as the analyzer planned it for a LOCK002 or LOCK014 diagnostic
/// (<see cref="RedisLockKeyAnalyzer.OwnerFixProperty"/>): keep an owner that already is per acquisition, give a
/// local that holds a shared value a new GUID, or declare a new owner just before the acquire, in the block
/// that also holds the release, and pass it to the acquire, the release and every extend.
/// </summary>
internal static class OwnerEdits
{
    public static bool CanApply(SyntaxNode root, Diagnostic diagnostic) => PlanOf(root, diagnostic) is not null;

    /// <summary>Records the edits and returns the owner expression to use where the diagnostic is.</summary>
    public static ExpressionSyntax Apply(DocumentEditor editor, SyntaxNode root, Diagnostic diagnostic, FixSession session)
    {
        var plan = PlanOf(root, diagnostic)!;
        ExpressionSyntax owner;
        switch (plan.Kind)
        {
            case RedisLockKeyAnalyzer.OwnerFixKinds.Initializer:
                var declarator = (VariableDeclaratorSyntax)plan.Initializer!.Parent!.Parent!;
                owner = IdentifierName(declarator.Identifier.ValueText);
                if (session.Get("initializer@" + plan.Initializer.SpanStart) is null)
                {
                    session.Set("initializer@" + plan.Initializer.SpanStart, declarator.Identifier.ValueText);
                    var statement = (LocalDeclarationStatementSyntax)declarator.Parent!.Parent!;
                    editor.ReplaceNode(statement, WithNewOwner(statement, plan.Initializer));
                }

                break;
            case RedisLockKeyAnalyzer.OwnerFixKinds.Introduce:
                var key = "introduce@" + plan.Acquire.SpanStart;
                var name = session.Get(key);
                if (name is null)
                {
                    name = UniqueName(plan.Acquire);
                    session.Set(key, name);
                    var value = string.IsNullOrEmpty(plan.Value) ? NewOwnerExpression() : ParseExpression(plan.Value!).WithoutTrivia();
                    var declaration = LocalDeclarationStatement(VariableDeclaration(IdentifierName("var"),
                            SingletonSeparatedList(VariableDeclarator(Identifier(name)).WithInitializer(EqualsValueClause(value)))))
                        .WithAdditionalAnnotations(Formatter.Annotation);
                    editor.InsertBefore(plan.InsertBefore!, declaration);
                }

                owner = IdentifierName(name);
                break;
            default:
                owner = ParseExpression(plan.Value!).WithoutTrivia();
                break;
        }

        foreach (var replaced in plan.Replaced)
        {
            if (session.Get("owner@" + replaced.SpanStart) is null)
            {
                session.Set("owner@" + replaced.SpanStart, "done");
                editor.ReplaceNode(replaced, owner.WithTriviaFrom(replaced));
            }
        }

        return owner;
    }

    private sealed record Plan(string Kind, string? Value, InvocationExpressionSyntax Acquire, ExpressionSyntax? Initializer, List<ExpressionSyntax> Replaced, StatementSyntax? InsertBefore);

    private static Plan? PlanOf(SyntaxNode root, Diagnostic diagnostic)
    {
        if (!diagnostic.Properties.TryGetValue(RedisLockKeyAnalyzer.OwnerFixProperty, out var kind) || kind is null
            || diagnostic.AdditionalLocations.Count == 0
            || root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax acquire
            || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not { } site)
        {
            return null;
        }

        diagnostic.Properties.TryGetValue(RedisLockKeyAnalyzer.OwnerValueProperty, out var value);
        var others = diagnostic.AdditionalLocations.Skip(1)
            .Select(l => root.FindNode(l.SourceSpan, getInnermostNodeForTie: true))
            .ToList();
        if (others.Any(n => n is not ExpressionSyntax))
        {
            return null;
        }

        var expressions = others.Cast<ExpressionSyntax>().ToList();
        switch (kind)
        {
            case RedisLockKeyAnalyzer.OwnerFixKinds.Use when !string.IsNullOrEmpty(value):
                return new Plan(kind, value, acquire, null, expressions, null);
            case RedisLockKeyAnalyzer.OwnerFixKinds.Initializer when expressions is [{ Parent: EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent.Parent: LocalDeclarationStatementSyntax } } } initializer]:
                return new Plan(kind, value, acquire, initializer, new List<ExpressionSyntax>(), null);
            case RedisLockKeyAnalyzer.OwnerFixKinds.Introduce:
                return InsertionPoint(acquire, expressions.Cast<SyntaxNode>().Append(site)) is { } statement
                    ? new Plan(kind, value, acquire, null, expressions, statement)
                    : null;
            default:
                return null;
        }
    }

    /// <summary>
    /// The statement to declare the new owner before: the one that holds the acquire, in the innermost block that
    /// also holds every use, in the same function (a lambda gets its own owner per call, as the acquire does).
    /// </summary>
    private static StatementSyntax? InsertionPoint(SyntaxNode acquire, IEnumerable<SyntaxNode> uses)
    {
        var function = FunctionOf(acquire);
        var nodes = uses.ToList();
        if (nodes.Any(n => FunctionOf(n) != function))
        {
            return null;
        }

        for (var block = acquire.Parent; block is not null && block != function; block = block.Parent)
        {
            if (block is BlockSyntax && nodes.All(n => block.Span.Contains(n.Span)))
            {
                return acquire.AncestorsAndSelf().OfType<StatementSyntax>().FirstOrDefault(s => s.Parent == block);
            }
        }

        return null;
    }

    private static SyntaxNode? FunctionOf(SyntaxNode node)
        => node.Ancestors().FirstOrDefault(a => a is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax or BaseMethodDeclarationSyntax or AccessorDeclarationSyntax);

    /// <summary>A name no identifier of the enclosing member uses: owner, lockOwner, owner2, ...</summary>
    private static string UniqueName(SyntaxNode node)
    {
        var member = node.Ancestors().OfType<MemberDeclarationSyntax>().FirstOrDefault() ?? node;
        var used = new HashSet<string>(member.DescendantTokens().Where(t => t.IsKind(SyntaxKind.IdentifierToken)).Select(t => t.ValueText));
        foreach (var candidate in new[] { "owner", "lockOwner", "lockToken" })
        {
            if (!used.Contains(candidate))
            {
                return candidate;
            }
        }

        for (var n = 2; ; n++)
        {
            if (!used.Contains("owner" + n))
            {
                return "owner" + n;
            }
        }
    }

    /// <summary><c>Guid.NewGuid().ToString("N")</c>: 128 random bits, written so that it simplifies to what the file imports.</summary>
    private static ExpressionSyntax NewOwnerExpression()
        => InvocationExpression(
            MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression,
                InvocationExpression(MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression,
                    ParseExpression("global::System.Guid").WithAdditionalAnnotations(Simplifier.Annotation), IdentifierName("NewGuid"))),
                IdentifierName("ToString")),
            ArgumentList(SingletonSeparatedList(Argument(LiteralExpression(SyntaxKind.StringLiteralExpression, Literal("N"))))));

    /// <summary>The declaration with a new GUID as the owner's value: no longer const, typed var unless it is a string or RedisValue.</summary>
    private static LocalDeclarationStatementSyntax WithNewOwner(LocalDeclarationStatementSyntax statement, ExpressionSyntax initializer)
    {
        var updated = statement.ReplaceNode(initializer, NewOwnerExpression().WithTriviaFrom(initializer));
        var type = updated.Declaration.Type;
        if (!(type.IsVar || type is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.StringKeyword } || type.ToString() is "RedisValue" or "StackExchange.Redis.RedisValue"))
        {
            updated = updated.WithDeclaration(updated.Declaration.WithType(IdentifierName("var").WithTriviaFrom(type)));
        }

        if (updated.Modifiers.Any(SyntaxKind.ConstKeyword))
        {
            updated = updated.WithModifiers(TokenList(updated.Modifiers.Where(m => !m.IsKind(SyntaxKind.ConstKeyword)))).WithLeadingTrivia(statement.GetLeadingTrivia());
        }

        return updated.WithAdditionalAnnotations(Formatter.Annotation);
    }
}
