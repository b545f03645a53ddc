using System.Text;
using BenchmarkDotNet.Attributes;
using Locking.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Locking.Benchmarks;

/// <summary>
/// The generator on a compilation of 2,000 [Exclusive] methods across 200 types: a full run on a fresh
/// compilation, and the incremental re-run after a one-line edit in one file (a Core body), as an IDE would see it.
/// </summary>
[MemoryDiagnoser]
public class GeneratorCostBenchmarks
{
    private const int Types = 200;
    private const int MethodsPerType = 10;

    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);
    private static readonly MetadataReference[] s_references = Basic.Reference.Assemblies.Net100.References.All
        .Cast<MetadataReference>()
        .Append(MetadataReference.CreateFromFile(typeof(LockLease).Assembly.Location))
        .ToArray();

    private SyntaxTree[] _trees = [];
    private SyntaxTree _edited = null!;
    private Compilation _warmCompilation = null!;
    private GeneratorDriver _warm = null!;
    private Compilation _compilation = null!;

    [GlobalSetup]
    public void Setup()
    {
        _trees = Enumerable.Range(0, Types).Select(i => CSharpSyntaxTree.ParseText(TypeSource(i, ""), s_parseOptions, path: $"Service{i}.cs"))
            .Prepend(CSharpSyntaxTree.ParseText("global using System; global using System.Threading; global using System.Threading.Tasks; global using Locking;", s_parseOptions, path: "Usings.cs"))
            .ToArray();
        _edited = CSharpSyntaxTree.ParseText(TypeSource(Types / 2, "        _ = id.Length;"), s_parseOptions, path: $"Service{Types / 2}.cs");

        _warmCompilation = Create();
        _warm = NewDriver().RunGeneratorsAndUpdateCompilation(_warmCompilation, out var output, out _);
        var generated = _warm.GetRunResult().GeneratedTrees.Length;
        var errors = output.GetDiagnostics().Count(d => d.Severity == DiagnosticSeverity.Error);
        if (generated != Types || errors != 0)
        {
            throw new InvalidOperationException($"The benchmark compilation is wrong: {generated} generated files, {errors} errors.");
        }
    }

    // A new compilation per iteration, so nothing bound by an earlier run is reused; Clone keeps the resolved
    // metadata references, which every build has resolved before generators run.
    [IterationSetup(Target = nameof(FullRun))]
    public void FreshCompilation() => _compilation = _warmCompilation.Clone();

    // What an IDE hands the generator after a keystroke: the previous compilation with one tree replaced.
    [IterationSetup(Target = nameof(IncrementalRunAfterOneLineEdit))]
    public void EditedCompilation() => _compilation = _warmCompilation.ReplaceSyntaxTree(_trees[1 + Types / 2], _edited);

    [Benchmark(Description = "full run, 2,000 methods / 200 types")]
    public GeneratorDriver FullRun() => NewDriver().RunGenerators(_compilation);

    [Benchmark(Description = "incremental re-run after a one-line edit")]
    public GeneratorDriver IncrementalRunAfterOneLineEdit() => _warm.RunGenerators(_compilation);

    [IterationSetup(Target = nameof(FindOnlyBaseline))]
    public void FreshCompilationForBaseline() => _compilation = _warmCompilation.Clone();

    [Benchmark(Description = "baseline: find the 2,000 methods and bind their symbols, no parsing or output")]
    public GeneratorDriver FindOnlyBaseline() => CSharpGeneratorDriver.Create(new[] { new FindOnlyGenerator().AsSourceGenerator() }, parseOptions: s_parseOptions).RunGenerators(_compilation);

    /// <summary>Runs one pass of each measurement outside BenchmarkDotNet, for CPU-time figures on a busy machine.</summary>
    public static IEnumerable<(string Name, Action Run)> Passes(GeneratorCostBenchmarks benchmarks)
    {
        yield return ("full run", () => { benchmarks.FreshCompilation(); benchmarks.FullRun(); });
        yield return ("incremental re-run after a one-line edit", () => { benchmarks.EditedCompilation(); benchmarks.IncrementalRunAfterOneLineEdit(); });
        yield return ("baseline: find and bind only", () => { benchmarks.FreshCompilationForBaseline(); benchmarks.FindOnlyBaseline(); });
    }

    private Compilation Create() => CSharpCompilation.Create("Services", _trees, s_references,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    private static GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create(
        new[] { new ExclusiveGenerator().AsSourceGenerator() }, parseOptions: s_parseOptions);

    private static string TypeSource(int type, string extraLine)
    {
        var source = new StringBuilder();
        source.AppendLine($"namespace Shop.Area{type % 10};");
        source.AppendLine($"public sealed record Order{type}(string Id, int Number);");
        source.AppendLine($"public partial class Service{type}(ILockProvider locks)");
        source.AppendLine("{");
        for (var m = 0; m < MethodsPerType; m++)
        {
            source.AppendLine($"    [Exclusive(\"service{type}/m{m}/{{order.Id}}/{{id}}\", Ttl = \"{m + 10}s\", Wait = \"{m}00ms\")]");
            source.AppendLine($"    public partial Task<int> Method{m}Async(Order{type} order, int id, CancellationToken ct = default);");
            source.AppendLine($"    private Task<int> Method{m}AsyncCore(Order{type} order, int id, LockLease lease, CancellationToken ct)");
            source.AppendLine("    {");
            if (m == 0)
            {
                source.AppendLine(extraLine);
            }

            source.AppendLine("        return Task.FromResult(order.Number + id);");
            source.AppendLine("    }");
        }

        source.AppendLine("}");
        return source.ToString();
    }
}

/// <summary>
/// The floor under any [Exclusive] generator: ForAttributeWithMetadataName finds the methods and hands over their
/// symbols; nothing is parsed or written.
/// </summary>
internal sealed class FindOnlyGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var names = context.SyntaxProvider.ForAttributeWithMetadataName(
            "Locking.ExclusiveAttribute",
            static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
            static (attributed, _) => attributed.TargetSymbol.Name + attributed.Attributes[0].ConstructorArguments[0].Value);
        context.RegisterSourceOutput(names.Collect(), static (_, _) => { });
    }
}
