using Locking.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Locking.Analyzers.Tests;

/// <summary>.editorconfig turns a rule off; every descriptor links to its diagnostics page.</summary>
public sealed class ConfigurationTests
{
    private const string LeakyJob = """
        public sealed class Job(ILockProvider provider)
        {
            public async Task RunAsync() => await provider.AcquireAsync("jobs/nightly");
        }
        """;

    [Fact]
    public async Task Editorconfig_turns_it_off()
    {
        var test = new Verify<LeaseReleaseAnalyzer>.AnalyzerTest { TestCode = LeakyJob };
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n\n[*.cs]\ndotnet_diagnostic.LOCK001.severity = none\n"));
        await test.RunAsync();
    }

    [Fact]
    public void Every_descriptor_links_to_its_page_and_has_a_known_category()
    {
        var descriptors = typeof(DiagnosticDescriptors).GetFields()
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToArray();
        Assert.Equal(14, descriptors.Length);
        Assert.Equal(Enumerable.Range(1, 14).Select(i => $"LOCK{i:000}"), descriptors.Select(d => d.Id).Order());
        var docs = FindDocsDirectory();
        foreach (var descriptor in descriptors)
        {
            Assert.EndsWith($"/docs/diagnostics/{descriptor.Id}.md", descriptor.HelpLinkUri);
            Assert.Contains(descriptor.Category, new[] { "Reliability", "Usage" });
            Assert.True(File.Exists(Path.Combine(docs, descriptor.Id + ".md")), $"docs/diagnostics/{descriptor.Id}.md is missing");
        }
    }

    private static string FindDocsDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var docs = Path.Combine(directory.FullName, "docs", "diagnostics");
            if (Directory.Exists(docs))
            {
                return docs;
            }
        }

        throw new DirectoryNotFoundException("docs/diagnostics not found above " + AppContext.BaseDirectory);
    }
}
