using System.Collections.Generic;
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
using Microsoft.CodeAnalysis.Simplification;
using static Microsoft.CodeAnalysis.CSharp.SyntaxFactory;

namespace Locking.Analyzers.CodeFixes;

/// <summary>
/// LOCK007: writes the missing <c>{Name}Core</c> body method after the [Exclusive] declaration: the same
/// parameters, then the held <c>LockLease</c>, then a CancellationToken when the method has none (the body
/// still needs one that fires when the lease is lost). It throws until the user writes the body.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(CoreStubCodeFix)), Shared]
public sealed class CoreStubCodeFix : DocumentCodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.MissingCoreMethod.Id);

    /// <inheritdoc />
    protected override string Title => "Add the body method";

    /// <inheritdoc />
    protected override bool CanFix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => diagnostic.Properties.TryGetValue("CoreName", out var name) && !string.IsNullOrEmpty(name) && MethodAt(root, diagnostic) is not null;

    /// <inheritdoc />
    protected override void Fix(DocumentEditor editor, SyntaxNode root, SemanticModel model, Diagnostic diagnostic, FixSession session, CancellationToken cancellationToken)
    {
        var method = MethodAt(root, diagnostic)!;
        var coreName = diagnostic.Properties["CoreName"]!;
        var symbol = model.GetDeclaredSymbol(method, cancellationToken);
        var names = new HashSet<string>(method.ParameterList.Parameters.Select(p => p.Identifier.ValueText));

        var parameters = method.ParameterList.Parameters
            .Select(p => p.WithAttributeLists(default).WithDefault(null).WithModifiers(TokenList(p.Modifiers.Where(m => !m.IsKind(SyntaxKind.ParamsKeyword)))))
            .ToList();
        var lease = Parameter(Identifier(Unique(names, "lease"))).WithType(QualifiedType("global::Locking.LockLease"));
        var token = symbol?.Parameters.FirstOrDefault(p => ExclusiveMethodParser.IsCancellationToken(p.Type));
        if (token is not null)
        {
            parameters.Insert(token.Ordinal, lease);
        }
        else
        {
            parameters.Add(lease);
            parameters.Add(Parameter(Identifier(Unique(names, "cancellationToken"))).WithType(QualifiedType("global::System.Threading.CancellationToken")));
        }

        var modifiers = TokenList(Token(SyntaxKind.PrivateKeyword));
        if (method.Modifiers.Any(SyntaxKind.StaticKeyword))
        {
            modifiers = modifiers.Add(Token(SyntaxKind.StaticKeyword));
        }

        var throwNotImplemented = ThrowStatement(ObjectCreationExpression(QualifiedType("global::System.NotImplementedException")).WithArgumentList(ArgumentList()));
        var core = MethodDeclaration(method.ReturnType.WithoutTrivia(), Identifier(coreName))
            .WithModifiers(modifiers)
            .WithTypeParameterList(method.TypeParameterList)
            .WithParameterList(ParameterList(SeparatedList(parameters)))
            .WithConstraintClauses(method.ConstraintClauses)
            .WithBody(Block(throwNotImplemented))
            .WithAdditionalAnnotations(Formatter.Annotation);
        editor.InsertAfter(method, core);
    }

    private static MethodDeclarationSyntax? MethodAt(SyntaxNode root, Diagnostic diagnostic)
        => root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.FirstAncestorOrSelf<MethodDeclarationSyntax>();

    private static TypeSyntax QualifiedType(string name) => ParseTypeName(name).WithAdditionalAnnotations(Simplifier.Annotation);

    private static string Unique(HashSet<string> taken, string name)
    {
        var candidate = name;
        for (var i = 2; !taken.Add(candidate); i++)
        {
            candidate = name + i;
        }

        return candidate;
    }
}
