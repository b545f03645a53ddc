using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Editing;

namespace Locking.Analyzers.CodeFixes;

/// <summary>
/// LOCK014: gives each acquisition its own owner, a new GUID (Guid.NewGuid().ToString("N"), 128 random bits),
/// and passes that same value to the release and every extend of the key in the method. Offered when the
/// acquire and the owner check are in one method; across methods the owner has to travel with the caller
/// (returned by the acquire, passed to the release), which changes signatures and is left to the user.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(SharedOwnerCodeFix)), Shared]
public sealed class SharedOwnerCodeFix : DocumentCodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.SharedLockOwner.Id);

    /// <inheritdoc />
    protected override string Title => "Give each acquisition its own owner (a new GUID) and pass it to the release and extends";

    /// <inheritdoc />
    protected override bool CanFix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => OwnerEdits.CanApply(root, diagnostic);

    /// <inheritdoc />
    protected override void Fix(DocumentEditor editor, SyntaxNode root, SemanticModel model, Diagnostic diagnostic, FixSession session, CancellationToken cancellationToken)
        => OwnerEdits.Apply(editor, root, diagnostic, session);
}
