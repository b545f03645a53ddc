using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Locking.Analyzers.Tests.Infrastructure;

/// <summary>Runs an analyzer over markup source: every [|span|] or {|LOCKnnn:span|} must be reported, nothing else.</summary>
internal static class Verify<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
        => AnalyzerAsync(new[] { source }, expected);

    public static async Task AnalyzerAsync(string[] sources, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest();
        foreach (var source in sources)
        {
            test.TestState.Sources.Add(source);
        }

        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync();
    }

    public static DiagnosticResult Diagnostic(string id) => CSharpAnalyzerVerifier<TAnalyzer, DefaultVerifier>.Diagnostic(id);

    /// <summary>Like <see cref="AnalyzerAsync(string[], DiagnosticResult[])"/>, with the Locking generator implementing the [Exclusive] methods.</summary>
    public static async Task GeneratedAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new AnalyzerTest { RunGenerator = true };
        test.TestState.Sources.Add(source);
        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync();
    }

    public sealed class AnalyzerTest : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
    {
        /// <summary>Whether the Locking generator runs, as it does in a real build.</summary>
        public bool RunGenerator { get; init; }

        protected override IEnumerable<Type> GetSourceGenerators()
            => RunGenerator ? new[] { typeof(Locking.Generators.ExclusiveGenerator) } : Array.Empty<Type>();

        public AnalyzerTest()
        {
            TestBehaviors = TestBehaviors.SkipGeneratedCodeCheck | TestBehaviors.SkipGeneratedSourcesCheck;
            ReferenceAssemblies = TestReferences.None;
            TestState.AdditionalReferences.AddRange(TestReferences.All);
            TestState.Sources.Add((TestReferences.GlobalUsingsFileName, TestReferences.GlobalUsings));
        }

        protected override ParseOptions CreateParseOptions()
            => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Preview);
    }
}

/// <summary>Runs an analyzer and its code fix: the markup source must become the fixed source, one by one and with Fix All.</summary>
internal static class Verify<TAnalyzer, TCodeFix>
    where TAnalyzer : DiagnosticAnalyzer, new()
    where TCodeFix : CodeFixProvider, new()
{
    public static async Task CodeFixAsync(string source, string fixedSource, int? iterations = null, bool runGenerator = false)
    {
        var test = new CodeFixTest { TestCode = source, FixedCode = fixedSource, RunGenerator = runGenerator };
        if (iterations is { } count)
        {
            test.NumberOfIncrementalIterations = count;
            test.NumberOfFixAllIterations = count;
        }

        await test.RunAsync();
    }

    public sealed class CodeFixTest : CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
    {
        /// <summary>Whether the Locking generator runs, as it does in a real build.</summary>
        public bool RunGenerator { get; init; }

        protected override IEnumerable<Type> GetSourceGenerators()
            => RunGenerator ? new[] { typeof(Locking.Generators.ExclusiveGenerator) } : Array.Empty<Type>();

        public CodeFixTest()
        {
            TestBehaviors = TestBehaviors.SkipGeneratedCodeCheck | TestBehaviors.SkipGeneratedSourcesCheck;
            ReferenceAssemblies = TestReferences.None;
            TestState.AdditionalReferences.AddRange(TestReferences.All);
            TestState.Sources.Add((TestReferences.GlobalUsingsFileName, TestReferences.GlobalUsings));
            FixedState.Sources.Add((TestReferences.GlobalUsingsFileName, TestReferences.GlobalUsings));
        }

        protected override ParseOptions CreateParseOptions()
            => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Preview);
    }
}
