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
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace Locking.Analyzers.CodeFixes;

/// <summary>
/// LOCK001: turns <c>var lease = await provider.AcquireAsync(key);</c> (or a discarded acquire) into an
/// <c>await using</c> declaration, and removes the release statements that it makes redundant.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(LeaseReleaseCodeFix)), Shared]
public sealed class LeaseReleaseCodeFix : DocumentCodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.LeaseNotReleased.Id);

    /// <inheritdoc />
    protected override string Title => "Release the lease with 'await using'";

    /// <inheritdoc />
    protected override bool CanFix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => Find(root, diagnostic) is not null;

    /// <inheritdoc />
    protected override void Fix(DocumentEditor editor, SyntaxNode root, SemanticModel model, Diagnostic diagnostic, FixSession session, CancellationToken cancellationToken)
    {
        var (statement, acquired) = Find(root, diagnostic)!.Value;
        var awaited = acquired.Parent is AwaitExpressionSyntax || acquired.Ancestors().TakeWhile(a => a != statement).Any(a => a is AwaitExpressionSyntax);
        switch (statement)
        {
            case LocalDeclarationStatementSyntax declaration:
                editor.ReplaceNode(declaration, AsUsing(declaration, awaited));
                if (model.GetDeclaredSymbol(declaration.Declaration.Variables[0], cancellationToken) is ILocalSymbol local)
                {
                    foreach (var release in RedundantReleases(declaration, local, model, cancellationToken))
                    {
                        editor.RemoveNode(release, SyntaxRemoveOptions.KeepNoTrivia);
                    }
                }

                break;
            case ExpressionStatementSyntax discarded:
                var name = UniqueName(model, discarded.SpanStart, "lease");
                var declared = LocalDeclarationStatement(VariableDeclaration(IdentifierName("var"),
                        SingletonSeparatedList(VariableDeclarator(Identifier(name)).WithInitializer(EqualsValueClause(discarded.Expression.WithoutTrivia())))))
                    .WithTriviaFrom(discarded);
                editor.ReplaceNode(discarded, AsUsing(declared, awaited).WithAdditionalAnnotations(Formatter.Annotation));
                break;
        }
    }

    /// <summary>The statement to rewrite and the acquire expression, when the lease is declared or discarded in a block.</summary>
    private static (StatementSyntax Statement, ExpressionSyntax Acquired)? Find(SyntaxNode root, Diagnostic diagnostic)
    {
        if (root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax acquired)
        {
            return null;
        }

        var statement = acquired.FirstAncestorOrSelf<StatementSyntax>();
        if (statement?.Parent is not BlockSyntax)
        {
            // A using declaration may not stand directly in a switch section or as an embedded statement.
            return null;
        }

        return statement switch
        {
            LocalDeclarationStatementSyntax { UsingKeyword.RawKind: 0, Declaration.Variables: [{ Initializer.Value: var value } variable] } declaration
                when IsLeaseValue(value, acquired) && !IsReassigned(declaration, variable.Identifier.ValueText) => (declaration, acquired),
            ExpressionStatementSyntax { Expression: var expression } when IsLeaseValue(expression, acquired) => (statement, acquired),
            _ => null,
        };
    }

    /// <summary>Whether the block assigns the variable again: a using variable is read-only, so the fix would not compile.</summary>
    private static bool IsReassigned(LocalDeclarationStatementSyntax declaration, string name)
        => declaration.Parent!.DescendantNodes().Any(node => node switch
        {
            AssignmentExpressionSyntax { Left: IdentifierNameSyntax target } => target.Identifier.ValueText == name,
            ArgumentSyntax { RefKindKeyword.RawKind: not 0, Expression: IdentifierNameSyntax target } => target.Identifier.ValueText == name,
            _ => false,
        });

    /// <summary>Whether <paramref name="value"/> is the acquire itself, awaited or waited on, and nothing more.</summary>
    private static bool IsLeaseValue(ExpressionSyntax value, ExpressionSyntax acquired)
    {
        for (SyntaxNode? node = acquired; node is not null; node = node.Parent)
        {
            if (node == value)
            {
                return true;
            }

            if (node.Parent is not (AwaitExpressionSyntax or ParenthesizedExpressionSyntax or MemberAccessExpressionSyntax or InvocationExpressionSyntax))
            {
                return false;
            }
        }

        return false;
    }

    private static LocalDeclarationStatementSyntax AsUsing(LocalDeclarationStatementSyntax declaration, bool awaited)
    {
        var leading = declaration.GetLeadingTrivia();
        var withoutTrivia = declaration.WithoutLeadingTrivia();
        return awaited
            ? withoutTrivia.WithAwaitKeyword(Token(leading, SyntaxKind.AwaitKeyword, TriviaList(Space))).WithUsingKeyword(Token(TriviaList(), SyntaxKind.UsingKeyword, TriviaList(Space)))
            : withoutTrivia.WithUsingKeyword(Token(leading, SyntaxKind.UsingKeyword, TriviaList(Space)));
    }

    /// <summary>Release statements of the local later in the same block, outside finally and catch: the using now does it.</summary>
    private static ImmutableArray<StatementSyntax> RedundantReleases(LocalDeclarationStatementSyntax declaration, ILocalSymbol local, SemanticModel model, CancellationToken cancellationToken)
    {
        var block = (BlockSyntax)declaration.Parent!;
        var releases = ImmutableArray.CreateBuilder<StatementSyntax>();
        foreach (var statement in block.Statements.SkipWhile(s => s != declaration).Skip(1))
        {
            if (statement is ExpressionStatementSyntax expressionStatement)
            {
                var expression = expressionStatement.Expression is AwaitExpressionSyntax awaitExpression ? awaitExpression.Expression : expressionStatement.Expression;
                if (expression is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "ReleaseAsync" or "DisposeAsync" or "Dispose", Expression: var receiver } }
                    && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(receiver, cancellationToken).Symbol, local))
                {
                    releases.Add(statement);
                }
            }
        }

        return releases.ToImmutable();
    }

    private static string UniqueName(SemanticModel model, int position, string name)
    {
        var candidate = name;
        for (var i = 2; model.LookupSymbols(position, name: candidate).Any(); i++)
        {
            candidate = name + i;
        }

        return candidate;
    }
}
