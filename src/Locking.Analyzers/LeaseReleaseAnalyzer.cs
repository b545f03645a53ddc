using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>
/// LOCK001: a lease from <c>ILockProvider.AcquireAsync</c> / <c>TryAcquireAsync</c> that is not released on
/// every path. A lease counts as handled when it is the resource of a <c>using</c>, released or disposed in a
/// <c>finally</c>, returned, stored outside the method (field, property, element, out parameter), or handed
/// to a parameter that takes ownership (typed <c>LockLease</c>, <c>IAsyncDisposable</c> or <c>IDisposable</c>,
/// or a constructor argument). It is flagged when discarded, never released, or released only on the
/// non-exceptional path.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LeaseReleaseAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.LeaseNotReleased);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        // Leases are acquired in user code; generated wrappers release theirs by construction.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var symbols = LeaseSymbols.TryCreate(start.Compilation);
            if (symbols is null)
            {
                return;
            }

            start.RegisterOperationAction(c => AnalyzeInvocation(c, symbols), OperationKind.Invocation);
        });
    }

    private static void AnalyzeInvocation(OperationAnalysisContext context, LeaseSymbols symbols)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!symbols.IsAcquire(invocation.TargetMethod))
        {
            return;
        }

        var problem = LeaseFlow.FindProblem(invocation, symbols);
        if (problem == LeaseProblem.None)
        {
            return;
        }

        var key = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Ordinal == 0)?.Value.Syntax.ToString() ?? "?";
        var why = problem switch
        {
            LeaseProblem.Discarded => "is discarded",
            LeaseProblem.ReleasedOnlyOnNormalPath => "is released only when no exception is thrown",
            _ => "is never released",
        };
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LeaseNotReleased, invocation.Syntax.GetLocation(), key, why));
    }
}

/// <summary>The Locking types LOCK001 needs, resolved once per compilation.</summary>
internal sealed class LeaseSymbols
{
    private LeaseSymbols(INamedTypeSymbol provider, INamedTypeSymbol lease, INamedTypeSymbol? asyncDisposable, INamedTypeSymbol disposable)
    {
        Provider = provider;
        Lease = lease;
        AsyncDisposable = asyncDisposable;
        Disposable = disposable;
    }

    public INamedTypeSymbol Provider { get; }

    public INamedTypeSymbol Lease { get; }

    public INamedTypeSymbol? AsyncDisposable { get; }

    public INamedTypeSymbol Disposable { get; }

    public static LeaseSymbols? TryCreate(Compilation compilation)
    {
        var provider = compilation.GetTypeByMetadataName("Locking.ILockProvider");
        var lease = compilation.GetTypeByMetadataName("Locking.LockLease");
        var disposable = compilation.GetSpecialType(SpecialType.System_IDisposable);
        return provider is null || lease is null
            ? null
            : new LeaseSymbols(provider, lease, compilation.GetTypeByMetadataName("System.IAsyncDisposable"), disposable);
    }

    /// <summary>Whether <paramref name="method"/> is AcquireAsync / TryAcquireAsync of a lock provider.</summary>
    public bool IsAcquire(IMethodSymbol method)
    {
        if (method.Name is not ("AcquireAsync" or "TryAcquireAsync") || method.ReturnType is not INamedTypeSymbol { TypeArguments.Length: 1 } returned
            || !IsLease(returned.TypeArguments[0]))
        {
            return false;
        }

        var type = method.ContainingType;
        return SymbolEqualityComparer.Default.Equals(type, Provider) || type.AllInterfaces.Contains(Provider, SymbolEqualityComparer.Default);
    }

    public bool IsLease(ITypeSymbol? type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, Lease))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a parameter of this type takes ownership of a lease passed to it.</summary>
    public bool TakesOwnership(ITypeSymbol type)
        => IsLease(type)
            || SymbolEqualityComparer.Default.Equals(type, AsyncDisposable)
            || SymbolEqualityComparer.Default.Equals(type, Disposable);

    public static bool IsReleaseMethod(IMethodSymbol method)
        => method.Name is "ReleaseAsync" or "DisposeAsync" or "Dispose" && method.Parameters.Length <= 1;
}

/// <summary>What is wrong with the way a lease is handled.</summary>
internal enum LeaseProblem
{
    None,
    Discarded,
    NeverReleased,
    ReleasedOnlyOnNormalPath,
}

/// <summary>Follows a lease from its acquire to where it ends up.</summary>
internal static class LeaseFlow
{
    private enum Use
    {
        /// <summary>Read or passed along without consequence for its release.</summary>
        Neutral,

        /// <summary>Released on every path, or ownership left this method.</summary>
        Handled,

        /// <summary>Released, but not in a finally: an exception before it leaks the lease.</summary>
        ReleasedOnNormalPath,
    }

    public static LeaseProblem FindProblem(IInvocationOperation acquire, LeaseSymbols symbols)
    {
        var value = ClimbToLease(acquire, symbols, out var awaited);
        if (!awaited)
        {
            // The ValueTask itself travels on (returned, stored, awaited later): only a dropped one is a leak.
            return value.Parent is IExpressionStatementOperation or ISimpleAssignmentOperation { Target: IDiscardOperation }
                ? LeaseProblem.Discarded
                : LeaseProblem.None;
        }

        return Classify(value, symbols) switch
        {
            Outcome.Discarded => LeaseProblem.Discarded,
            Outcome.Unreleased => LeaseProblem.NeverReleased,
            Outcome.Local when LocalOf(value) is ILocalSymbol local => FindLocalProblem(local, value, symbols),
            _ => LeaseProblem.None,
        };
    }

    private enum Outcome
    {
        Handled,
        Discarded,
        Unreleased,
        Local,
    }

    /// <summary>From the acquire call up to the operation whose value is the lease (past await, GetResult, Result).</summary>
    private static IOperation ClimbToLease(IOperation acquire, LeaseSymbols symbols, out bool awaited)
    {
        IOperation current = acquire;
        awaited = false;
        while (current.Parent is { } parent)
        {
            switch (parent)
            {
                case IConversionOperation { IsImplicit: true }:
                case IAwaitOperation:
                case IInvocationOperation { TargetMethod.Name: "AsTask" or "ConfigureAwait" or "GetAwaiter" or "GetResult" } call when call.Instance == current:
                case IPropertyReferenceOperation { Property.Name: "Result" } property when property.Instance == current:
                    current = parent;
                    if (symbols.IsLease(current.Type))
                    {
                        awaited = true;
                        return current;
                    }

                    continue;
            }

            return current;
        }

        return current;
    }

    private static Outcome Classify(IOperation value, LeaseSymbols symbols)
    {
        var current = value;
        while (current.Parent is { } parent)
        {
            switch (parent)
            {
                case IConversionOperation:
                case IParenthesizedOperation:
                case IConditionalOperation conditional when conditional.Condition != current:
                case ICoalesceOperation coalesce when coalesce.Value == current:
                case ISwitchExpressionArmOperation:
                case ISwitchExpressionOperation switchExpression when switchExpression.Value != current:
                    current = parent;
                    continue;
                case IExpressionStatementOperation:
                    return Outcome.Discarded;
                case ISimpleAssignmentOperation assignment when assignment.Value == current:
                    return assignment.Target switch
                    {
                        IDiscardOperation => Outcome.Discarded,
                        ILocalReferenceOperation => Outcome.Local,
                        _ => Outcome.Handled,
                    };
                case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                    return IsUsingDeclaration(declarator) ? Outcome.Handled : Outcome.Local;
                case IIsPatternOperation pattern:
                    return DeclaredLocal(pattern.Pattern) is null ? Outcome.Unreleased : Outcome.Local;
                case IArgumentOperation argument:
                    return argument.Parent is IObjectCreationOperation || (argument.Parameter is { } p && symbols.TakesOwnership(p.Type))
                        ? Outcome.Handled
                        : Outcome.Unreleased;
                case IInvocationOperation call when call.Instance == current:
                    return LeaseSymbols.IsReleaseMethod(call.TargetMethod) ? Outcome.Handled : Outcome.Unreleased;
                case IPropertyReferenceOperation property when property.Instance == current:
                    return Outcome.Unreleased;
                case IConditionalAccessOperation access when access.Operation == current:
                    return access.WhenNotNull is IInvocationOperation { TargetMethod: var m } && LeaseSymbols.IsReleaseMethod(m)
                        ? Outcome.Handled
                        : Outcome.Unreleased;
                default:
                    // using resources, returns, collections, tuples, initializers: ownership moves on.
                    return Outcome.Handled;
            }
        }

        return Outcome.Handled;
    }

    private static ISymbol? LocalOf(IOperation value)
    {
        var current = value;
        while (current.Parent is { } parent)
        {
            switch (parent)
            {
                case ISimpleAssignmentOperation { Target: ILocalReferenceOperation local }:
                    return local.Local;
                case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                    return declarator.Symbol;
                case IIsPatternOperation pattern:
                    return DeclaredLocal(pattern.Pattern);
            }

            current = parent;
        }

        return null;
    }

    private static ILocalSymbol? DeclaredLocal(IPatternOperation pattern) => pattern switch
    {
        IDeclarationPatternOperation { DeclaredSymbol: ILocalSymbol local } => local,
        IRecursivePatternOperation { DeclaredSymbol: ILocalSymbol local } => local,
        INegatedPatternOperation negated => DeclaredLocal(negated.Pattern),
        IBinaryPatternOperation binary => DeclaredLocal(binary.LeftPattern) ?? DeclaredLocal(binary.RightPattern),
        _ => null,
    };

    /// <summary>Whether the declarator is part of a using declaration or the resource of a using statement.</summary>
    private static bool IsUsingDeclaration(IVariableDeclaratorOperation declarator)
    {
        // declarator -> declaration -> declaration group -> using declaration / using statement
        var group = declarator.Parent?.Parent;
        return group is IVariableDeclarationGroupOperation && group.Parent is IUsingDeclarationOperation or IUsingOperation;
    }

    private static LeaseProblem FindLocalProblem(ILocalSymbol local, IOperation acquired, LeaseSymbols symbols)
    {
        var root = acquired;
        while (root.Parent is not null)
        {
            root = root.Parent;
        }

        var releasedOnNormalPath = false;
        foreach (var operation in root.Descendants())
        {
            if (operation is not ILocalReferenceOperation reference || !SymbolEqualityComparer.Default.Equals(reference.Local, local))
            {
                continue;
            }

            switch (ClassifyUse(reference, symbols))
            {
                case Use.Handled:
                    return LeaseProblem.None;
                case Use.ReleasedOnNormalPath:
                    releasedOnNormalPath = true;
                    break;
            }
        }

        return releasedOnNormalPath ? LeaseProblem.ReleasedOnlyOnNormalPath : LeaseProblem.NeverReleased;
    }

    private static Use ClassifyUse(ILocalReferenceOperation reference, LeaseSymbols symbols)
    {
        IOperation current = reference;
        while (current.Parent is { } parent)
        {
            switch (parent)
            {
                case IConversionOperation:
                case IParenthesizedOperation:
                case IConditionalOperation conditional when conditional.Condition != current:
                case ICoalesceOperation coalesce when coalesce.Value == current:
                    current = parent;
                    continue;
                case IUsingOperation:
                case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator } when IsUsingDeclaration(declarator):
                    return Use.Handled;
                case IInvocationOperation call when call.Instance == current:
                    return LeaseSymbols.IsReleaseMethod(call.TargetMethod) ? ReleaseUse(call) : Use.Neutral;
                case IConditionalAccessOperation access when access.Operation == current:
                    return access.WhenNotNull is IInvocationOperation { TargetMethod: var m } && LeaseSymbols.IsReleaseMethod(m)
                        ? ReleaseUse(access)
                        : Use.Neutral;
                case IReturnOperation:
                case IFieldReferenceOperation:
                case IArrayElementReferenceOperation:
                case ITupleOperation:
                case IArrayInitializerOperation:
                case ICollectionExpressionOperation:
                case IAnonymousObjectCreationOperation:
                    return Use.Handled;
                case ISimpleAssignmentOperation assignment:
                    // Stored somewhere else (field, property, another local that takes over): ownership moves.
                    return assignment.Value == current && assignment.Target is not IDiscardOperation ? Use.Handled : Use.Neutral;
                case IVariableInitializerOperation:
                    return Use.Handled;
                case IArgumentOperation argument:
                    return argument.Parent is IObjectCreationOperation || (argument.Parameter is { } p && symbols.TakesOwnership(p.Type))
                        ? Use.Handled
                        : Use.Neutral;
                default:
                    return Use.Neutral;
            }
        }

        return Use.Neutral;
    }

    /// <summary>A release in a finally (or in a catch, next to one on the normal path) covers every path.</summary>
    private static Use ReleaseUse(IOperation release)
    {
        IOperation? child = release;
        for (var current = release.Parent; current is not null; child = current, current = current.Parent)
        {
            if (current is ITryOperation tryOperation && tryOperation.Finally == child)
            {
                return Use.Handled;
            }

            if (current is ICatchClauseOperation)
            {
                return Use.Handled;
            }

            if (current is IAnonymousFunctionOperation or ILocalFunctionOperation)
            {
                // A lambda that releases (a callback, a continuation) is its own decision: trust it.
                return Use.Handled;
            }
        }

        return Use.ReleasedOnNormalPath;
    }
}
