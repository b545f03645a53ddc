using System.Collections.Generic;
using System.Collections.Immutable;
using Locking.Declarations;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locking.Analyzers;

/// <summary>
/// LOCK003, LOCK005-LOCK009 and LOCK011: what is wrong with an [Exclusive] declaration. It runs the very parser
/// the generator runs, so the two always agree, and reports from the partial definition (the part the user
/// wrote) even though the generator has implemented the method.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DeclarationAnalyzer : DiagnosticAnalyzer
{
    private static readonly Dictionary<string, DiagnosticDescriptor> s_descriptors = new()
    {
        [DiagnosticIds.TtlShorterThanWork] = DiagnosticDescriptors.TtlShorterThanWork,
        [DiagnosticIds.InvalidKeyTemplate] = DiagnosticDescriptors.InvalidKeyTemplate,
        [DiagnosticIds.InvalidTarget] = DiagnosticDescriptors.InvalidTarget,
        [DiagnosticIds.MissingCoreMethod] = DiagnosticDescriptors.MissingCoreMethod,
        [DiagnosticIds.ProviderNotFound] = DiagnosticDescriptors.ProviderNotFound,
        [DiagnosticIds.InvalidDuration] = DiagnosticDescriptors.InvalidDuration,
        [DiagnosticIds.UnstableKeyPlaceholder] = DiagnosticDescriptors.UnstableKeyPlaceholder,
    };

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.TtlShorterThanWork,
        DiagnosticDescriptors.InvalidKeyTemplate,
        DiagnosticDescriptors.InvalidTarget,
        DiagnosticDescriptors.MissingCoreMethod,
        DiagnosticDescriptors.ProviderNotFound,
        DiagnosticDescriptors.InvalidDuration,
        DiagnosticDescriptors.UnstableKeyPlaceholder);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        // The partial definition is the user's, but the method symbol is also reached through the generated part.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var attribute = start.Compilation.GetTypeByMetadataName(ExclusiveMethodParser.AttributeMetadataName);
            if (attribute is null)
            {
                return;
            }

            // The call rules (LOCK010/012/013) parse the same declarations: share their per-compilation index.
            var index = ExclusiveMethodIndex.TryCreate(start.Compilation);
            start.RegisterSymbolAction(symbol => AnalyzeMethod(symbol, attribute, index), SymbolKind.Method);
        });
    }

    private static void AnalyzeMethod(SymbolAnalysisContext context, INamedTypeSymbol attributeType, ExclusiveMethodIndex? index)
    {
        var method = (IMethodSymbol)context.Symbol;
        if (method.PartialDefinitionPart is not null)
        {
            // An implementation part (generated or the user's) carries the merged [Exclusive] too; the definition
            // is analyzed on its own and reports for both, so nothing is reported twice.
            return;
        }

        AttributeData? attribute = null;
        foreach (var candidate in method.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(candidate.AttributeClass, attributeType))
            {
                attribute = candidate;
                break;
            }
        }

        if (attribute is null)
        {
            return;
        }

        var spec = index?.AsExclusive(method, context.CancellationToken)?.Spec
            ?? ExclusiveMethodParser.Parse(method, attribute, context.Compilation, context.CancellationToken);
        foreach (var problem in spec.Problems)
        {
            if (!s_descriptors.TryGetValue(problem.Id, out var descriptor))
            {
                continue;
            }

            var properties = ImmutableDictionary<string, string?>.Empty;
            if (problem.Id == DiagnosticIds.InvalidTarget)
            {
                properties = properties.Add("Reason", problem.Reason);
            }
            else if (problem.Id == DiagnosticIds.MissingCoreMethod)
            {
                properties = properties.Add("CoreName", spec.CoreName);
            }

            var args = new object[problem.MessageArgs.Count];
            for (var i = 0; i < args.Length; i++)
            {
                args[i] = problem.MessageArgs[i];
            }

            context.ReportDiagnostic(Diagnostic.Create(descriptor, ExclusiveMethodParser.GetLocation(problem, method, attribute), properties, args));
        }
    }
}
