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
/// LOCK002: replaces a plain delete of a lock key with a compare-and-delete Lua script (delete only while the
/// key still holds this acquisition's owner), run by ScriptEvaluate / ScriptEvaluateAsync. The owner is one per
/// acquisition: the acquire's own when it already is (a new GUID, a caller's token) and reaches the delete;
/// otherwise a new GUID given to the acquire in the method that also deletes, and passed to its extends too.
/// Not offered when the acquire is in another method and stores a shared owner (the machine name, a field set
/// once): carrying a new owner there changes the methods' signatures, which is the user's call.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(OwnerCheckedReleaseCodeFix)), Shared]
public sealed class OwnerCheckedReleaseCodeFix : DocumentCodeFixProvider
{
    /// <summary>The name of the constant the script is kept in, in the type that deletes.</summary>
    public const string ScriptConstantName = "CompareAndDeleteScript";

    private const string Script = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.NonOwnerDelete.Id);

    /// <inheritdoc />
    protected override string Title => "Delete only while this acquisition's owner holds the key (compare-and-delete script)";

    /// <inheritdoc />
    protected override bool CanFix(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => Analyze(root, model, diagnostic, cancellationToken) is not null;

    /// <inheritdoc />
    protected override void Fix(DocumentEditor editor, SyntaxNode root, SemanticModel model, Diagnostic diagnostic, FixSession session, CancellationToken cancellationToken)
    {
        var plan = Analyze(root, model, diagnostic, cancellationToken)!;
        var owner = OwnerEdits.Apply(editor, root, diagnostic, session);
        var isAsync = plan.Invocation.Name.EndsWith("Async", System.StringComparison.Ordinal);
        var arguments = SeparatedList(new[]
        {
            Argument(IdentifierName(ScriptConstantName)),
            Argument(ArrayOf("RedisKey", plan.Key.WithoutTrivia())),
            Argument(ArrayOf("RedisValue", owner)),
        }.Concat(plan.Flags is null ? Enumerable.Empty<ArgumentSyntax>() : new[] { Argument(plan.Flags.WithoutTrivia()).WithNameColon(NameColon("flags")) }));
        ExpressionSyntax evaluate = InvocationExpression(
            MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, plan.Receiver.WithoutTrivia(), IdentifierName(isAsync ? "ScriptEvaluateAsync" : "ScriptEvaluate")),
            ArgumentList(arguments));

        var replaced = plan.Replaced;
        if (replaced is AwaitExpressionSyntax)
        {
            evaluate = AwaitExpression(evaluate);
        }

        if (plan.NeedsBool)
        {
            evaluate = ParenthesizedExpression(CastExpression(PredefinedType(Token(SyntaxKind.BoolKeyword)), evaluate));
        }

        editor.ReplaceNode(replaced, evaluate.WithTriviaFrom(replaced).WithAdditionalAnnotations(Simplifier.Annotation, Formatter.Annotation));

        var type = replaced.FirstAncestorOrSelf<TypeDeclarationSyntax>()!;
        if (model.GetDeclaredSymbol(type, cancellationToken)?.GetMembers(ScriptConstantName).IsEmpty == true)
        {
            editor.ReplaceNode(type, (current, _) =>
            {
                var declaration = (TypeDeclarationSyntax)current;
                if (declaration.Members.OfType<FieldDeclarationSyntax>().Any(f => f.Declaration.Variables.Any(v => v.Identifier.ValueText == ScriptConstantName)))
                {
                    return declaration;
                }

                var constant = FieldDeclaration(VariableDeclaration(PredefinedType(Token(SyntaxKind.StringKeyword)),
                        SingletonSeparatedList(VariableDeclarator(ScriptConstantName).WithInitializer(EqualsValueClause(
                            LiteralExpression(SyntaxKind.StringLiteralExpression, Literal(Script)))))))
                    .WithModifiers(TokenList(Token(SyntaxKind.PrivateKeyword), Token(SyntaxKind.ConstKeyword)))
                    .WithAdditionalAnnotations(Formatter.Annotation);
                return declaration.WithMembers(declaration.Members.Insert(0, constant));
            });
        }
    }

    /// <summary><c>new RedisKey[] { element }</c>, the type written so that it simplifies to what the file imports.</summary>
    private static ArrayCreationExpressionSyntax ArrayOf(string redisType, ExpressionSyntax element)
        => ArrayCreationExpression(
                ArrayType(ParseTypeName("global::StackExchange.Redis." + redisType).WithAdditionalAnnotations(Simplifier.Annotation))
                    .WithRankSpecifiers(SingletonList(ArrayRankSpecifier(SingletonSeparatedList<ExpressionSyntax>(OmittedArraySizeExpression())))),
                InitializerExpression(SyntaxKind.ArrayInitializerExpression, SingletonSeparatedList(element)));

    private sealed record Plan(IMethodSymbol Invocation, ExpressionSyntax Receiver, ExpressionSyntax Key, ExpressionSyntax? Flags, ExpressionSyntax Replaced, bool NeedsBool);

    private static Plan? Analyze(SyntaxNode root, SemanticModel model, Diagnostic diagnostic, CancellationToken cancellationToken)
    {
        if (!OwnerEdits.CanApply(root, diagnostic)
            || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax access } invocation
            || model.GetOperation(invocation, cancellationToken) is not IInvocationOperation operation
            || invocation.FirstAncestorOrSelf<TypeDeclarationSyntax>() is null)
        {
            return null;
        }

        var method = operation.TargetMethod;
        ExpressionSyntax? key = null;
        ExpressionSyntax? flags = null;
        foreach (var argument in operation.Arguments)
        {
            if (argument.ArgumentKind == ArgumentKind.DefaultValue)
            {
                continue;
            }

            switch (argument.Parameter?.Name)
            {
                case "key":
                    key = (ExpressionSyntax)argument.Value.Syntax;
                    break;
                case "flags":
                    flags = (ExpressionSyntax)argument.Value.Syntax;
                    break;
                case "args" when argument.Value is IArrayCreationOperation { Initializer.ElementValues: [var only] }
                                 && UnwrapConversions(only).Type?.Name is "String" or "RedisKey":
                    key = (ExpressionSyntax)UnwrapConversions(only).Syntax;
                    break;
                case "command":
                    break;
                case "expiry" when method.Name.StartsWith("KeyExpire", System.StringComparison.Ordinal):
                    // An expiry that has passed: the delete it stands for.
                    break;
                default:
                    // An array of keys, a ValueCondition, an argument list: not a single-key delete to rewrite.
                    return null;
            }
        }

        if (key is null)
        {
            return null;
        }

        // What the result flows into decides whether it must stay a bool.
        ExpressionSyntax replaced = invocation.Parent is AwaitExpressionSyntax awaited ? awaited : invocation;
        var needsBool = false;
        if (replaced.Parent is not ExpressionStatementSyntax && !(replaced.Parent is AssignmentExpressionSyntax { Left: IdentifierNameSyntax { Identifier.ValueText: "_" } }))
        {
            var converted = model.GetTypeInfo(replaced, cancellationToken).ConvertedType;
            if (converted?.SpecialType == SpecialType.System_Boolean)
            {
                needsBool = true;
            }
            else if (converted is not INamedTypeSymbol { Name: "Task" or "ValueTask", IsGenericType: false })
            {
                return null;
            }
        }

        return new Plan(method, access.Expression, key, flags, replaced, needsBool);
    }

    private static IOperation UnwrapConversions(IOperation operation)
    {
        while (operation is IConversionOperation conversion)
        {
            operation = conversion.Operand;
        }

        return operation;
    }
}
