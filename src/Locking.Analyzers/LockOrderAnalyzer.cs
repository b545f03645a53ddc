using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>
/// LOCK013: across the compilation, one exclusive body nests key family x then y (its Core calls an
/// [Exclusive] method of family y), while another nests y then x. Two callers can then each hold one lock
/// and wait for the other. Direct calls only; a compilation-end rule of its own, so that the live rules of
/// <see cref="ExclusiveCallAnalyzer"/> do not wait for the whole compilation.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LockOrderAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.InconsistentLockOrder);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (ExclusiveMethodIndex.TryCreate(start.Compilation) is not { } index)
            {
                return;
            }

            var nestings = new ConcurrentBag<Nesting>();
            start.RegisterOperationAction(c => Collect(c, index, nestings), OperationKind.Invocation);
            start.RegisterCompilationEndAction(c => Report(c, nestings));
        });
    }

    private static void Collect(OperationAnalysisContext context, ExclusiveMethodIndex index, ConcurrentBag<Nesting> nestings)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (context.ContainingSymbol is IMethodSymbol caller
            && index.AsExclusive(invocation.TargetMethod, context.CancellationToken) is { Family: { } inner } callee
            && index.OwnerOfCore(caller, context.CancellationToken) is { Family: { } outer } holder
            && outer != inner)
        {
            nestings.Add(new Nesting(outer, inner, holder, callee, invocation.Syntax.GetLocation()));
        }
    }

    private static void Report(CompilationAnalysisContext context, IEnumerable<Nesting> nestings)
    {
        var all = nestings.ToArray();
        var byOrder = all.ToLookup(n => (n.Outer, n.Inner));
        foreach (var nesting in all.OrderBy(n => n.Location.SourceTree?.FilePath).ThenBy(n => n.Location.SourceSpan.Start))
        {
            if (byOrder[(nesting.Inner, nesting.Outer)].FirstOrDefault() is { } opposite)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InconsistentLockOrder, nesting.Location,
                    additionalLocations: new[] { opposite.Location },
                    nesting.Holder.Method.Name, nesting.Holder.Spec.Key.Text, nesting.Callee.Spec.Key.Text, opposite.Holder.Method.Name));
            }
        }
    }

    /// <summary>One exclusive body (of family <paramref name="Outer"/>) calling an [Exclusive] method of family <paramref name="Inner"/>.</summary>
    private sealed record Nesting(string Outer, string Inner, ExclusiveMethod Holder, ExclusiveMethod Callee, Location Location);
}
