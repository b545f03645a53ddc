using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using static Locking.Generators.ExclusiveGenerator;

namespace Locking.Generators.Tests;

/// <summary>
/// The generator's caching, asserted with tracked steps: edits that cannot change the output leave every step
/// Cached or Unchanged; edits that do change it show up as Modified.
/// </summary>
public sealed class IncrementalityTests
{
    private const string Service = """
        namespace Shop;

        public partial class OrderService(ILockProvider locks)
        {
            [Exclusive("orders/{orderId}", Ttl = "30s")]
            public partial Task ChargeAsync(string orderId, CancellationToken ct);

            private async Task ChargeAsyncCore(string orderId, LockLease lease, CancellationToken ct)
            {
                await Task.Delay(1, ct);
            }
        }

        public partial class RefundService(ILockProvider locks)
        {
            [Exclusive("refunds/{refundId}")]
            public partial Task RefundAsync(string refundId);

            private Task RefundAsyncCore(string refundId) => Task.CompletedTask;
        }
        """;

    private const string Unrelated = """
        namespace Shop;

        public static class Prices
        {
            public static decimal WithTax(decimal net) => net * 1.2m;
        }
        """;

    private static readonly string[] s_steps = [TrackingNames.Methods, TrackingNames.ImplementableMethods, TrackingNames.Types];

    [Fact]
    public void An_edit_to_an_unrelated_file_leaves_every_step_cached()
    {
        var result = RunTwice(Unrelated, Unrelated.Replace("1.2m", "1.25m"), edited: 1);

        AssertEveryStep(result, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void An_edit_to_a_core_method_body_leaves_every_step_unchanged()
    {
        var result = RunTwice(Service, Service.Replace("await Task.Delay(1, ct);", "await Task.Delay(2, ct);\n        await Task.Yield();"), edited: 0);

        AssertEveryStep(result, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
    }

    [Fact]
    public void An_edit_to_the_key_regenerates_only_its_type()
    {
        var result = RunTwice(Service, Service.Replace("orders/{orderId}", "orders/v2/{orderId}"), edited: 0);

        var outputs = result.TrackedSteps[TrackingNames.Types].SelectMany(s => s.Outputs).ToList();
        Assert.Equal(2, outputs.Count);
        Assert.Equal(IncrementalStepRunReason.Modified, outputs.Single(o => ((ExclusiveTypeSpec)o.Value).HintName == "Shop.OrderService.g.cs").Reason);
        Assert.Equal(IncrementalStepRunReason.Unchanged, outputs.Single(o => ((ExclusiveTypeSpec)o.Value).HintName == "Shop.RefundService.g.cs").Reason);
        Assert.Contains("orders/v2/", result.GeneratedSources.Single(s => s.HintName == "Shop.OrderService.g.cs").SourceText.ToString());
    }

    [Fact]
    public void The_pipeline_holds_no_symbols_syntax_or_compilations()
    {
        var compilation = GeneratorHarness.Compile(Service, Unrelated);
        var result = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation).GetRunResult().Results.Single();

        var values = s_steps.SelectMany(name => result.TrackedSteps[name]).SelectMany(step => step.Outputs).Select(o => o.Value).ToList();
        Assert.NotEmpty(values);
        foreach (var value in values)
        {
            AssertPlainValue(value, value.GetType().Name, depth: 0);
        }
    }

    private static GeneratorRunResult RunTwice(string before, string after, int edited)
    {
        Assert.NotEqual(before, after);
        var compilation = GeneratorHarness.Compile(Service, Unrelated);
        var oldTree = compilation.SyntaxTrees.Single(t => t.FilePath == $"Source{edited}.cs");
        Assert.Equal(before, oldTree.ToString());
        var driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(compilation);

        var newTree = CSharpSyntaxTree.ParseText(after, GeneratorHarness.ParseOptions, path: oldTree.FilePath);
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(oldTree, newTree));
        return driver.GetRunResult().Results.Single();
    }

    private static void AssertEveryStep(GeneratorRunResult result, params IncrementalStepRunReason[] allowed)
    {
        Assert.Equal(2, result.GeneratedSources.Length);
        foreach (var name in s_steps)
        {
            var outputs = result.TrackedSteps[name].SelectMany(step => step.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, output => Assert.True(allowed.Contains(output.Reason), $"Step {name} re-ran: {output.Reason}"));
        }

        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(step => step.Outputs),
            output => Assert.True(allowed.Contains(output.Reason), $"The source output re-ran: {output.Reason}"));
    }

    private static void AssertPlainValue(object? value, string path, int depth)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || depth > 12)
        {
            return;
        }

        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or Location or SyntaxTree,
            $"{path} holds a {value.GetType().Name}, which pins a compilation and defeats caching.");
        if (value is IEnumerable items)
        {
            var i = 0;
            foreach (var item in items)
            {
                AssertPlainValue(item, $"{path}[{i++}]", depth + 1);
            }

            return;
        }

        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0)
            {
                AssertPlainValue(property.GetValue(value), path + "." + property.Name, depth + 1);
            }
        }
    }
}
