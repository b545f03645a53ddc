using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using Locking.Declarations;
using Microsoft.CodeAnalysis;

namespace Locking.Analyzers;

/// <summary>An [Exclusive] method as the call rules see it: its declaration, parsed by the shared parser, and its body method.</summary>
/// <param name="Method">The partial definition of the [Exclusive] method.</param>
/// <param name="Spec">The parsed declaration.</param>
/// <param name="Core">The matching <c>{Name}Core</c> body method, or null.</param>
internal sealed record ExclusiveMethod(IMethodSymbol Method, ExclusiveMethodSpec Spec, IMethodSymbol? Core)
{
    /// <summary>
    /// The key family: the template with every placeholder blanked ("orders/{}"), so that two methods that
    /// lock the same kind of key compare equal whatever their parameters are called. Null for an invalid template.
    /// </summary>
    public string? Family
    {
        get
        {
            if (Spec.Key.Error is not null)
            {
                return null;
            }

            var family = new StringBuilder();
            foreach (var segment in Spec.Key.Segments)
            {
                family.Append(segment.IsPlaceholder ? "{}" : segment.Text.Replace("{", "{{").Replace("}", "}}"));
            }

            return family.ToString();
        }
    }
}

/// <summary>
/// Finds [Exclusive] methods and their Core bodies once per compilation, for the rules about calls
/// (LOCK010, LOCK012, LOCK013). Safe for concurrent callers.
/// </summary>
internal sealed class ExclusiveMethodIndex
{
    private readonly Compilation _compilation;
    private readonly string _attributeAssembly;
    private readonly ConcurrentDictionary<IMethodSymbol, ExclusiveMethod?> _byMethod = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IMethodSymbol, ExclusiveMethod?> _byCore = new(SymbolEqualityComparer.Default);
    private readonly ConcurrentDictionary<IAssemblySymbol, bool> _seesAttribute = new(SymbolEqualityComparer.Default);

    private ExclusiveMethodIndex(Compilation compilation, string attributeAssembly)
    {
        _compilation = compilation;
        _attributeAssembly = attributeAssembly;
    }

    /// <summary>One index per compilation, shared by the analyzers that need it, so each declaration is parsed once.</summary>
    private static readonly ConditionalWeakTable<Compilation, ExclusiveMethodIndex?[]> s_byCompilation = new();

    /// <summary>The index of <paramref name="compilation"/>, or null when it cannot see Locking's attribute (nothing to check).</summary>
    public static ExclusiveMethodIndex? TryCreate(Compilation compilation)
        => s_byCompilation.GetValue(compilation, c => new[]
        {
            c.GetTypeByMetadataName(ExclusiveMethodParser.AttributeMetadataName) is { } attribute
                ? new ExclusiveMethodIndex(c, attribute.ContainingAssembly.Name)
                : null,
        })[0];

    /// <summary>
    /// Whether methods of <paramref name="assembly"/> can carry [Exclusive] at all: this compilation's own, or one
    /// that references the attribute's assembly. Spares reading the attributes of every framework method called.
    /// </summary>
    private bool CanDeclareExclusive(IAssemblySymbol? assembly)
    {
        if (assembly is null)
        {
            return false;
        }

        return _seesAttribute.GetOrAdd(assembly, a =>
            SymbolEqualityComparer.Default.Equals(a, _compilation.Assembly)
            || a.Name == _attributeAssembly
            || a.Modules.Any(m => m.ReferencedAssemblies.Any(r => r.Name == _attributeAssembly)));
    }

    /// <summary>The definition part of a (possibly partial, possibly constructed) method.</summary>
    public static IMethodSymbol Normalize(IMethodSymbol method)
    {
        var original = method.OriginalDefinition;
        return original.PartialDefinitionPart ?? original;
    }

    /// <summary>The [Exclusive] method <paramref name="method"/> is, or null.</summary>
    public ExclusiveMethod? AsExclusive(IMethodSymbol method, CancellationToken cancellationToken)
    {
        method = Normalize(method);
        if (method.MethodKind != MethodKind.Ordinary || !CanDeclareExclusive(method.ContainingAssembly))
        {
            return null;
        }

        if (_byMethod.TryGetValue(method, out var known))
        {
            return known;
        }

        ExclusiveMethod? exclusive = null;
        if (ExclusiveMethodParser.FindAttribute(method) is { } attribute)
        {
            var spec = ExclusiveMethodParser.Parse(method, attribute, _compilation, cancellationToken);
            exclusive = new ExclusiveMethod(method, spec, ExclusiveMethodParser.FindCoreMethod(method) is { } core ? Normalize(core) : null);
        }

        return _byMethod.GetOrAdd(method, exclusive);
    }

    /// <summary>The [Exclusive] method whose body <paramref name="method"/> is, or null.</summary>
    public ExclusiveMethod? OwnerOfCore(IMethodSymbol method, CancellationToken cancellationToken)
    {
        method = Normalize(method);
        var suffix = ExclusiveMethodParser.CoreSuffix;
        if (method.MethodKind != MethodKind.Ordinary || method.Name.Length <= suffix.Length
            || !method.Name.EndsWith(suffix, StringComparison.Ordinal) || method.ContainingType is null)
        {
            return null;
        }

        if (_byCore.TryGetValue(method, out var known))
        {
            return known;
        }

        ExclusiveMethod? owner = null;
        foreach (var member in method.ContainingType.GetMembers(method.Name.Substring(0, method.Name.Length - suffix.Length)))
        {
            if (member is IMethodSymbol candidate && AsExclusive(candidate, cancellationToken) is { Core: { } core } exclusive
                && SymbolEqualityComparer.Default.Equals(core, method))
            {
                owner = exclusive;
                break;
            }
        }

        return _byCore.GetOrAdd(method, owner);
    }
}
