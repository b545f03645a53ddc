using System.Collections.Immutable;
using Locking.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Locking.Analyzers.Tests;

/// <summary>
/// Realistic code under every analyzer at once, with the generator on: Corpus/Correct must raise nothing,
/// Corpus/Incorrect exactly what its markup says. Add a file to grow the corpus.
/// </summary>
public sealed class CorpusTests
{
    public static TheoryData<string> Correct => Files("Correct");

    public static TheoryData<string> Incorrect => Files("Incorrect");

    [Theory]
    [MemberData(nameof(Correct))]
    public Task Correct_code_raises_nothing(string file) => RunAsync(file);

    [Theory]
    [MemberData(nameof(Incorrect))]
    public Task Incorrect_code_raises_what_its_markup_says(string file) => RunAsync(file);

    [Fact]
    public void Corpus_is_not_empty()
    {
        Assert.True(Correct.Count >= 4, "Corpus/Correct lost its files");
        Assert.True(Incorrect.Count >= 3, "Corpus/Incorrect lost its files");
    }

    private static Task RunAsync(string file)
    {
        var test = new AllAnalyzersTest();
        test.TestState.Sources.Add((Path.GetFileName(file), File.ReadAllText(Path.Combine(CorpusDirectory, file))));
        return test.RunAsync();
    }

    private static string CorpusDirectory => Path.Combine(AppContext.BaseDirectory, "Corpus");

    private static TheoryData<string> Files(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Path.Combine(CorpusDirectory, kind), "*.cs").Order(StringComparer.Ordinal))
        {
            data.Add(Path.Combine(kind, Path.GetFileName(path)));
        }

        return data;
    }

    /// <summary>Every Locking analyzer, and the generator, as a build runs them.</summary>
    internal static ImmutableArray<DiagnosticAnalyzer> AllAnalyzers { get; } = ImmutableArray.Create<DiagnosticAnalyzer>(
        new LeaseReleaseAnalyzer(), new RedisLockKeyAnalyzer(), new ExclusiveCallAnalyzer(), new LockOrderAnalyzer(), new DeclarationAnalyzer());

    private sealed class AllAnalyzersTest : CSharpAnalyzerTest<LeaseReleaseAnalyzer, DefaultVerifier>
    {
        public AllAnalyzersTest()
        {
            TestBehaviors = TestBehaviors.SkipGeneratedCodeCheck | TestBehaviors.SkipGeneratedSourcesCheck;
            ReferenceAssemblies = TestReferences.None;
            TestState.AdditionalReferences.AddRange(TestReferences.All);
            TestState.Sources.Add((TestReferences.GlobalUsingsFileName, TestReferences.GlobalUsings));
        }

        protected override IEnumerable<DiagnosticAnalyzer> GetDiagnosticAnalyzers() => AllAnalyzers;

        protected override IEnumerable<Type> GetSourceGenerators() => new[] { typeof(Locking.Generators.ExclusiveGenerator) };

        protected override ParseOptions CreateParseOptions()
            => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Preview);
    }
}
