using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.Editing;

namespace Locking.Analyzers.CodeFixes;

/// <summary>
/// A code fix that edits one document: the same edit serves one diagnostic and Fix All (all diagnostics of a
/// document applied through one <see cref="DocumentEditor"/>, so edits to a shared node do not conflict).
/// </summary>
public abstract class DocumentCodeFixProvider : CodeFixProvider
{
    /// <summary>The title of the code action, also its equivalence key.</summary>
    protected abstract string Title { get; }

    /// <inheritdoc />
    public sealed override FixAllProvider GetFixAllProvider()
        => FixAllProvider.Create(async (context, document, diagnostics) => await FixAsync(document, diagnostics, context.CancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (CanFix(root, model, diagnostic, context.CancellationToken))
            {
                context.RegisterCodeFix(
                    CodeAction.Create(Title, ct => FixAsync(context.Document, ImmutableArray.Create(diagnostic), ct), equivalenceKey: Title),
                    diagnostic);
            }
        }
    }

    /// <summary>Whether this fix knows how to rewrite the code of <paramref name="diagnostic"/>.</summary>
    protected abstract bool CanFix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken);

    /// <summary>
    /// Records the edit for one diagnostic. <paramref name="session"/> is shared by every diagnostic fixed in one
    /// pass over the document (Fix All), so that two diagnostics needing the same edit (one new local for an
    /// acquire that two releases use) make it once.
    /// </summary>
    protected abstract void Fix(DocumentEditor editor, SyntaxNode root, SemanticModel model, Diagnostic diagnostic, FixSession session, CancellationToken cancellationToken);

    private async Task<Document> FixAsync(Document document, IEnumerable<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        var root = editor.OriginalRoot;
        var model = editor.SemanticModel;
        var session = new FixSession();
        foreach (var diagnostic in diagnostics.OrderBy(d => d.Location.SourceSpan.Start))
        {
            if (CanFix(root, model, diagnostic, cancellationToken))
            {
                Fix(editor, root, model, diagnostic, session, cancellationToken);
            }
        }

        return editor.GetChangedDocument();
    }
}

/// <summary>What the edits of one pass over a document have done so far, by a key each fix chooses.</summary>
public sealed class FixSession
{
    private readonly Dictionary<string, string> _done = new();

    /// <summary>The value recorded for <paramref name="key"/> by an earlier edit of this pass, or null.</summary>
    public string? Get(string key) => _done.TryGetValue(key, out var value) ? value : null;

    /// <summary>Records that the edit <paramref name="key"/> was made, with a value later edits may need (a new local's name).</summary>
    public void Set(string key, string value) => _done[key] = value;
}
