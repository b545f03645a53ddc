using System.Collections.Generic;
using System.Collections.Immutable;
using System.Text;
using System.Threading;
using Locking.Declarations;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locking.Generators;

/// <summary>
/// Implements every [Exclusive] partial method: acquire the lease, run the <c>{Name}Core</c> body under it,
/// release it. Pipeline: find the attributed methods, parse each into a value-equatable
/// <see cref="ExclusiveMethodSpec"/> (the parser shared with the analyzers), group them by containing type,
/// and format one file per type. The generator reports no diagnostics; the analyzers do.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class ExclusiveGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var methods = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ExclusiveMethodParser.AttributeMetadataName,
                static (node, _) => node is MethodDeclarationSyntax,
                static (attributed, cancellationToken) => Parse(attributed, cancellationToken))
            .WithTrackingName(TrackingNames.Methods)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.ImplementableMethods);

        var types = methods
            .Collect()
            .SelectMany(static (all, _) => GroupByType(all))
            .WithTrackingName(TrackingNames.Types);

        context.RegisterSourceOutput(types, static (output, type) => output.AddSource(type.HintName, Emitter.Emit(type)));
    }

    private static ExclusiveMethodSpec? Parse(GeneratorAttributeSyntaxContext attributed, CancellationToken cancellationToken)
    {
        if (attributed.TargetSymbol is not IMethodSymbol method || attributed.Attributes.Length == 0)
        {
            return null;
        }

        var spec = ExclusiveMethodParser.Parse(method, attributed.Attributes[0], attributed.SemanticModel.Compilation, cancellationToken);

        // Only a partial definition in partial types can be implemented; anything else is the analyzers' to report.
        return spec.CanImplement ? spec : null;
    }

    private static ImmutableArray<ExclusiveTypeSpec> GroupByType(ImmutableArray<ExclusiveMethodSpec> methods)
    {
        var order = new List<string>();
        var byType = new Dictionary<string, List<ExclusiveMethodSpec>>();
        foreach (var method in methods)
        {
            if (!byType.TryGetValue(method.TypeMetadataName, out var list))
            {
                byType[method.TypeMetadataName] = list = new List<ExclusiveMethodSpec>();
                order.Add(method.TypeMetadataName);
            }

            list.Add(method);
        }

        var types = ImmutableArray.CreateBuilder<ExclusiveTypeSpec>(order.Count);
        foreach (var name in order)
        {
            var list = byType[name];
            types.Add(new ExclusiveTypeSpec(HintNameOf(name), list[0].Namespace, list[0].ContainingTypes, list.ToEquatableArray()));
        }

        return types.MoveToImmutable();
    }

    private static string HintNameOf(string typeMetadataName)
    {
        var name = new StringBuilder(typeMetadataName.Length + 5);
        foreach (var c in typeMetadataName)
        {
            name.Append(char.IsLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        }

        return name.Append(".g.cs").ToString();
    }

    /// <summary>The names of the pipeline steps, for incrementality tests.</summary>
    internal static class TrackingNames
    {
        public const string Methods = nameof(Methods);
        public const string ImplementableMethods = nameof(ImplementableMethods);
        public const string Types = nameof(Types);
    }
}

/// <summary>The [Exclusive] methods of one containing type: one generated file.</summary>
/// <param name="HintName">The generated file's name.</param>
/// <param name="Namespace">The type's namespace, or empty.</param>
/// <param name="ContainingTypes">The type and its containing types, outermost first.</param>
/// <param name="Methods">The methods to implement, in declaration order.</param>
internal sealed record ExclusiveTypeSpec(string HintName, string Namespace, EquatableArray<ContainingTypeSpec> ContainingTypes, EquatableArray<ExclusiveMethodSpec> Methods);
