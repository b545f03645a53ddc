using System.Collections.Immutable;
using Locking.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.CodeAnalysis.Text;

namespace Locking.Generators.Tests;

/// <summary>
/// Runs <see cref="DeclarationAnalyzer"/> over markup source with the generator active, as in a real build:
/// every {|LOCKnnn:span|} must be reported, nothing else, and the compiler must report nothing either
/// (in particular no CS8795 for a partial method the generator could not wrap).
/// </summary>
internal static class DeclarationVerifier
{
    public static async Task VerifyAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new Test { TestCode = source };
        test.ExpectedDiagnostics.AddRange(expected);

        // What the generator writes, added as sources: the analyzer must see the implementation parts, as in a build.
        TestFileMarkupParser.GetSpans(source, out var plain, out ImmutableDictionary<string, ImmutableArray<TextSpan>> _);
        foreach (var generated in GeneratorHarness.Run(plain).Sources)
        {
            test.TestState.Sources.Add(("Generated/" + generated.HintName, generated.SourceText));
        }

        await test.RunAsync();
    }

    public static DiagnosticResult Diagnostic(string id) => CSharpAnalyzerVerifier<DeclarationAnalyzer, DefaultVerifier>.Diagnostic(id);

    /// <summary>The analyzer's diagnostics on plain source (no markup), with their properties, compiled with the generator.</summary>
    public static async Task<ImmutableArray<Diagnostic>> DiagnosticsAsync(string source)
    {
        var run = GeneratorHarness.Run(source);
        var analyzed = run.Output.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new DeclarationAnalyzer()));
        return await analyzed.GetAnalyzerDiagnosticsAsync();
    }

    private sealed class Test : CSharpAnalyzerTest<DeclarationAnalyzer, DefaultVerifier>
    {
        public Test()
        {
            TestBehaviors = TestBehaviors.SkipGeneratedSourcesCheck;
            ReferenceAssemblies = new ReferenceAssemblies("net10.0");
            TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
            TestState.Sources.Add(("GlobalUsings.cs", GeneratorHarness.GlobalUsings));
        }

        protected override ParseOptions CreateParseOptions() => GeneratorHarness.ParseOptions;

        protected override CompilationOptions CreateCompilationOptions()
            => ((CSharpCompilationOptions)base.CreateCompilationOptions()).WithNullableContextOptions(NullableContextOptions.Enable);
    }
}
