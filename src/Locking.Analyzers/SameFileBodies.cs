using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>
/// The one expression a helper method or computed property returns, as an operation, when it is declared in the
/// same file as the code that uses it (so the semantic model at hand can bind it; other files are not bound).
/// </summary>
internal static class SameFileBodies
{
    /// <summary>What the called method returns: an expression body, or a block that is one return statement.</summary>
    public static IOperation? Returned(IInvocationOperation call)
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

    /// <summary>What a computed property's getter returns.</summary>
    public static IOperation? Getter(ISymbol member, SemanticModel? model)
    {
        if (member is not IPropertySymbol property || model is null || property.DeclaringSyntaxReferences.Length != 1
            || property.DeclaringSyntaxReferences[0].SyntaxTree != model.SyntaxTree)
        {
            return null;
        }

        ExpressionSyntax? expression = property.DeclaringSyntaxReferences[0].GetSyntax() switch
        {
            PropertyDeclarationSyntax { ExpressionBody.Expression: var arrow } => arrow,
            PropertyDeclarationSyntax { AccessorList.Accessors: var accessors } => accessors.FirstOrDefault(a => a.Keyword.ValueText == "get") switch
            {
                { ExpressionBody.Expression: var arrow } => arrow,
                { Body.Statements: [ReturnStatementSyntax { Expression: var returned }] } => returned,
                _ => null,
            },
            _ => null,
        };
        return expression is null ? null : model.GetOperation(expression);
    }
}
