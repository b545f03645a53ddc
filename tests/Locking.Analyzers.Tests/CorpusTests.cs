using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using Locking.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Xunit.Abstractions;

namespace Locking.Analyzers.Tests;

/// <summary>
/// Realistic lock code under every analyzer at once, with the generator on, scored like a classifier. Each
/// file of Corpus/Incorrect marks every line that must be reported with the id it must get ({|LOCK002:...|});
/// Corpus/Correct marks nothing. A report on a marked line with its id is a true positive, any other report a
/// false positive, a mark without its report a false negative. The corpus must keep a precision of at least
/// 95 % and a recall of at least 90 %; every miss is printed. Add a file to grow the corpus.
/// </summary>
public sealed partial class CorpusTests(ITestOutputHelper output)
{
    private const double MinimumPrecision = 0.95;
    private const double MinimumRecall = 0.90;

    [Fact]
    public async Task Corpus_is_found_with_the_promised_precision_and_recall()
    {
        var files = Files("Correct").Concat(Files("Incorrect")).ToList();
        Assert.True(files.Count >= 40, $"the corpus has {files.Count} files; it promises at least 40");
        Assert.True(Files("Correct").Count() >= 15 && Files("Incorrect").Count() >= 15, "the corpus needs both correct and incorrect code");

        var expected = new HashSet<Finding>();
        var actual = new HashSet<Finding>();
        var messages = new Dictionary<Finding, string>();
        var compileErrors = new List<string>();
        foreach (var file in files)
        {
            var (source, marks) = Markup.Parse(File.ReadAllText(Path.Combine(CorpusDirectory, file)), file);
            if (file.StartsWith("Correct", StringComparison.Ordinal))
            {
                Assert.True(marks.Count == 0, $"{file} is in Corpus/Correct but marks {marks.Count} line(s)");
            }
            else
            {
                Assert.True(marks.Count > 0, $"{file} is in Corpus/Incorrect but marks nothing");
            }

            expected.UnionWith(marks);
            foreach (var diagnostic in await AnalyzeAsync(file, source, compileErrors))
            {
                var finding = new Finding(file, diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1, diagnostic.Id);
                actual.Add(finding);
                messages[finding] = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        Assert.True(compileErrors.Count == 0, "the corpus must compile:\n" + string.Join("\n", compileErrors));
        var truePositives = expected.Intersect(actual).Count();
        var falsePositives = actual.Except(expected).OrderBy(f => f.ToString(), StringComparer.Ordinal).ToList();
        var falseNegatives = expected.Except(actual).OrderBy(f => f.ToString(), StringComparer.Ordinal).ToList();
        var precision = actual.Count == 0 ? 1 : (double)truePositives / actual.Count;
        var recall = expected.Count == 0 ? 1 : (double)truePositives / expected.Count;

        output.WriteLine($"{files.Count} files, {expected.Count} marked lines, {actual.Count} reports: precision {precision:P1}, recall {recall:P1}");
        foreach (var rule in expected.Concat(actual).Select(f => f.Id).Distinct().Order(StringComparer.Ordinal))
        {
            var marked = expected.Count(f => f.Id == rule);
            var found = actual.Count(f => f.Id == rule);
            var hits = expected.Intersect(actual).Count(f => f.Id == rule);
            output.WriteLine($"  {rule}: {marked} marked, {found} reported, {hits} right");
        }

        foreach (var miss in falseNegatives)
        {
            output.WriteLine($"  missed: {miss}");
        }

        foreach (var noise in falsePositives)
        {
            output.WriteLine($"  false alarm: {noise}: {messages[noise]}");
        }

        Assert.True(precision >= MinimumPrecision, $"precision {precision:P1} is below {MinimumPrecision:P0}; false alarms:\n" + string.Join("\n", falsePositives));
        Assert.True(recall >= MinimumRecall, $"recall {recall:P1} is below {MinimumRecall:P0}; missed:\n" + string.Join("\n", falseNegatives));
    }

    [Fact]
    public void Markup_is_read_as_lines_and_ids()
    {
        var (source, marks) = Markup.Parse("""
            var a = {|LOCK002:db.KeyDelete(k)|};
            var b = 1;
            {|LOCK004:db.StringSet(k, v, when: When.NotExists)|}; {|LOCK014:x|}
            """, "f.cs");
        Assert.Equal("var a = db.KeyDelete(k);\nvar b = 1;\ndb.StringSet(k, v, when: When.NotExists); x", source.Replace("\r\n", "\n"));
        Assert.Equal(new[] { new Finding("f.cs", 1, "LOCK002"), new Finding("f.cs", 3, "LOCK004"), new Finding("f.cs", 3, "LOCK014") }, marks.OrderBy(m => m.Line).ThenBy(m => m.Id));
    }

    /// <summary>Every Locking analyzer, as a build runs them.</summary>
    internal static ImmutableArray<DiagnosticAnalyzer> AllAnalyzers { get; } = ImmutableArray.Create<DiagnosticAnalyzer>(
        new LeaseReleaseAnalyzer(), new RedisLockKeyAnalyzer(), new ExclusiveCallAnalyzer(), new LockOrderAnalyzer(), new DeclarationAnalyzer());

    /// <summary>The LOCK diagnostics of one corpus file, compiled with the generator as a build does; compiler errors go to <paramref name="compileErrors"/>.</summary>
    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string file, string source, List<string> compileErrors)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var compilation = CSharpCompilation.Create("Corpus",
            new[]
            {
                CSharpSyntaxTree.ParseText(TestReferences.GlobalUsings, parse, path: TestReferences.GlobalUsingsFileName),
                CSharpSyntaxTree.ParseText(SourceText.From(source, Encoding.UTF8), parse, path: file),
            },
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create(new[] { new Locking.Generators.ExclusiveGenerator().AsSourceGenerator() }, parseOptions: parse)
            .RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
        compileErrors.AddRange(generated.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));

        var diagnostics = await generated.WithAnalyzers(AllAnalyzers).GetAnalyzerDiagnosticsAsync();
        return diagnostics.Where(d => d.Id.StartsWith("LOCK", StringComparison.Ordinal) && d.Location.SourceTree?.FilePath == file).ToImmutableArray();
    }

    private static string CorpusDirectory => Path.Combine(AppContext.BaseDirectory, "Corpus");

    private static IEnumerable<string> Files(string kind)
        => Directory.GetFiles(Path.Combine(CorpusDirectory, kind), "*.cs")
            .Order(StringComparer.Ordinal)
            .Select(path => Path.Combine(kind, Path.GetFileName(path)));

    /// <summary>A report (or a mark) of a rule on a line of a corpus file.</summary>
    internal sealed record Finding(string File, int Line, string Id)
    {
        public override string ToString() => $"{File}({Line}): {Id}";
    }

    /// <summary>Reads {|LOCKnnn:text|} marks (they may nest) into the plain source and the marked lines.</summary>
    internal static partial class Markup
    {
        public static (string Source, HashSet<Finding> Marks) Parse(string text, string file)
        {
            var source = new StringBuilder(text.Length);
            var marks = new HashSet<Finding>();
            var line = 1;
            var i = 0;
            while (i < text.Length)
            {
                var open = OpenMark().Match(text, i);
                if (open.Success && open.Index == i)
                {
                    marks.Add(new Finding(file, line, open.Groups["id"].Value));
                    i += open.Length;
                    continue;
                }

                if (string.CompareOrdinal(text, i, "|}", 0, 2) == 0)
                {
                    i += 2;
                    continue;
                }

                if (text[i] == '\n')
                {
                    line++;
                }

                source.Append(text[i]);
                i++;
            }

            return (source.ToString(), marks);
        }

        [GeneratedRegex(@"\{\|(?<id>LOCK\d{3}):")]
        private static partial Regex OpenMark();
    }
}
