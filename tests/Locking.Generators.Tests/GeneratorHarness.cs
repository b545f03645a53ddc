using System.Collections.Immutable;
using System.Reflection;
using Locking.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locking.Generators.Tests;

/// <summary>Compiles user code in memory against .NET 10 and the real Locking runtime, and runs the generator over it.</summary>
internal static class GeneratorHarness
{
    public const string GlobalUsings = """
        global using System;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Locking;

        """;

    public static ImmutableArray<MetadataReference> References { get; } = Basic.Reference.Assemblies.Net100.References.All
        .Cast<MetadataReference>()
        .Append(MetadataReference.CreateFromFile(typeof(LockLease).Assembly.Location))
        .ToImmutableArray();

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    public static CSharpCompilation Compile(params string[] sources) => Compile([], sources);

    public static CSharpCompilation Compile(IEnumerable<MetadataReference> extraReferences, params string[] sources)
    {
        var trees = sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"Source{i}.cs"))
            .Prepend(CSharpSyntaxTree.ParseText(GlobalUsings, ParseOptions, path: "GlobalUsings.cs"));
        return CSharpCompilation.Create(
            "UserCode" + Guid.NewGuid().ToString("N"),
            trees,
            References.Concat(extraReferences),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

    public static GeneratorDriver CreateDriver(bool trackSteps = false) => CSharpGeneratorDriver.Create(
        new[] { new ExclusiveGenerator().AsSourceGenerator() },
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator; the result holds the generated files and the compilation with them.</summary>
    public static GeneratorRun Run(params string[] sources) => Run([], sources);

    public static GeneratorRun Run(IEnumerable<MetadataReference> extraReferences, params string[] sources)
    {
        var compilation = Compile(extraReferences, sources);
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        return new GeneratorRun(driver.GetRunResult(), output, generatorDiagnostics);
    }

    /// <summary>Compiles the sources with the generator and loads the assembly, failing on any error or warning.</summary>
    public static Assembly CompileAndLoad(IEnumerable<MetadataReference> extraReferences, params string[] sources)
    {
        var run = Run(extraReferences, sources);
        run.AssertClean();
        using var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        Assert.True(emitted.Success, string.Join(Environment.NewLine, emitted.Diagnostics));
        return Assembly.Load(image.ToArray());
    }
}

internal sealed record GeneratorRun(GeneratorDriverRunResult Result, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics)
{
    public ImmutableArray<GeneratedSourceResult> Sources => Result.Results.Single().GeneratedSources;

    public string Source(string hintName) => Sources.Single(s => s.HintName == hintName).SourceText.ToString();

    /// <summary>The generator reported nothing and the code with the generated part compiles without errors or warnings.</summary>
    public void AssertClean()
    {
        Assert.Empty(GeneratorDiagnostics);
        Assert.Null(Result.Results.Single().Exception);
        var problems = Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(problems.Count == 0, "The code with the generated part does not compile cleanly:" + Environment.NewLine
            + string.Join(Environment.NewLine, problems) + Environment.NewLine + string.Join(Environment.NewLine, Sources.Select(s => s.SourceText.ToString())));
    }
}
