using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using Locking.Declarations;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Formatting;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace Locking.Analyzers.CodeFixes;

/// <summary>
/// LOCK006 (not partial, or a containing type not partial): makes the method a partial declaration and every
/// containing type partial. A method written with a body keeps it: the body moves to a private
/// <c>{Name}Core</c> method and the [Exclusive] method becomes the partial declaration the generator implements.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
public sealed class MakePartialCodeFix : DocumentCodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.InvalidTarget.Id);

    /// <inheritdoc />
    protected override string Title => "Make the method and its containing types partial";

    /// <inheritdoc />
    protected override bool CanFix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        if (!diagnostic.Properties.TryGetValue("Reason", out var reason)
            || reason is not (InvalidTargetReasons.NotPartial or InvalidTargetReasons.TypeNotPartial)
            || MethodAt(root, diagnostic) is not { } method)
        {
            return false;
        }

        // With a body, the body moves to {Name}Core: not when that name is taken already.
        return !HasBody(method) || model.GetDeclaredSymbol(method, cancellationToken) is not { } symbol
            || symbol.ContainingType.GetMembers(ExclusiveMethodParser.CoreNameOf(symbol.Name)).IsEmpty;
    }

    /// <inheritdoc />
    protected override void Fix(DocumentEditor editor, SyntaxNode root, SemanticModel model, Diagnostic diagnostic, FixSession session, CancellationToken cancellationToken)
    {
        var method = MethodAt(root, diagnostic)!;
        foreach (var type in method.Ancestors().OfType<TypeDeclarationSyntax>())
        {
            editor.ReplaceNode(type, (current, _) => WithPartial((TypeDeclarationSyntax)current));
        }

        if (method.Modifiers.Any(SyntaxKind.PartialKeyword) && !HasBody(method))
        {
            return;
        }

        var definition = method
            .WithModifiers(Partial(TokenList(method.Modifiers.Where(m => !m.IsKind(SyntaxKind.AsyncKeyword) && !m.IsKind(SyntaxKind.PartialKeyword)))))
            .WithBody(null)
            .WithExpressionBody(null)
            .WithSemicolonToken(Token(SyntaxKind.SemicolonToken));
        if (!HasBody(method))
        {
            editor.ReplaceNode(method, definition);
            return;
        }

        // The body becomes {Name}Core: private, static if the method is, async if it was, without the attribute.
        var modifiers = TokenList(Token(SyntaxKind.PrivateKeyword));
        modifiers = modifiers.AddRange(method.Modifiers.Where(m => m.IsKind(SyntaxKind.StaticKeyword) || m.IsKind(SyntaxKind.AsyncKeyword)).Select(m => m.WithoutTrivia().WithTrailingTrivia(Space)));
        var core = method
            .WithAttributeLists(default)
            .WithModifiers(modifiers)
            .WithReturnType(method.ReturnType.WithoutLeadingTrivia())
            .WithIdentifier(Identifier(ExclusiveMethodParser.CoreNameOf(method.Identifier.ValueText)))
            .WithLeadingTrivia(ElasticCarriageReturnLineFeed)
            .WithAdditionalAnnotations(Formatter.Annotation);
        // Insert before replacing: the editor finds the method by its original node.
        editor.InsertAfter(method, core);
        editor.ReplaceNode(method, definition.WithTrailingTrivia(ElasticCarriageReturnLineFeed));
    }

    private static MethodDeclarationSyntax? MethodAt(SyntaxNode root, Diagnostic diagnostic)
        => root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.FirstAncestorOrSelf<MethodDeclarationSyntax>();

    private static bool HasBody(MethodDeclarationSyntax method) => method.Body is not null || method.ExpressionBody is not null;

    private static TypeDeclarationSyntax WithPartial(TypeDeclarationSyntax type)
        => type.Modifiers.Any(SyntaxKind.PartialKeyword) ? type : type.WithModifiers(Partial(type.Modifiers));

    /// <summary>The modifiers with <c>partial</c> last, where C# wants it.</summary>
    private static SyntaxTokenList Partial(SyntaxTokenList modifiers)
        => modifiers.Count == 0
            ? TokenList(Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(Space))
            : modifiers.Add(Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(Space));
}
