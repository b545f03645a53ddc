using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace Locking.Analyzers.CodeFixes;

/// <summary>LOCK003: sets <c>Renew = true</c> on the [Exclusive] attribute, so the lease outlives the declared work.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RenewCodeFix)), Shared]
public sealed class RenewCodeFix : DocumentCodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.TtlShorterThanWork.Id);

    /// <inheritdoc />
    protected override string Title => "Renew the lease while the body runs (Renew = true)";

    /// <inheritdoc />
    protected override bool CanFix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => RenewArgument(root, diagnostic) is not null;

    /// <inheritdoc />
    protected override void Fix(DocumentEditor editor, SyntaxNode root, SemanticModel model, Diagnostic diagnostic, FixSession session, CancellationToken cancellationToken)
    {
        var renew = RenewArgument(root, diagnostic)!;
        editor.ReplaceNode(renew.Expression, LiteralExpression(SyntaxKind.TrueLiteralExpression).WithTriviaFrom(renew.Expression));
    }

    /// <summary>The <c>Renew = ...</c> argument of the attribute the diagnostic is on (or of the method it names).</summary>
    private static AttributeArgumentSyntax? RenewArgument(SyntaxNode root, Diagnostic diagnostic)
    {
        var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
        var attributes = node.FirstAncestorOrSelf<AttributeSyntax>() is { } attribute
            ? new[] { attribute }
            : node.FirstAncestorOrSelf<MethodDeclarationSyntax>()?.AttributeLists.SelectMany(l => l.Attributes).ToArray() ?? System.Array.Empty<AttributeSyntax>();
        return attributes
            .SelectMany(a => a.ArgumentList?.Arguments ?? default)
            .FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == "Renew");
    }
}
