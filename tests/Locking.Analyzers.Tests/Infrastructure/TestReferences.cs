using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using StackExchange.Redis;

namespace Locking.Analyzers.Tests.Infrastructure;

/// <summary>
/// What test code compiles against: the .NET 10 reference assemblies, the real Locking runtime and the real
/// StackExchange.Redis, and the usings every snippet would otherwise repeat.
/// </summary>
internal static class TestReferences
{
    /// <summary>No package to resolve: the references come from <see cref="All"/>.</summary>
    public static ReferenceAssemblies None { get; } = new("net10.0");

    public static ImmutableArray<MetadataReference> All { get; } = Basic.Reference.Assemblies.Net100.References.All
        .Cast<MetadataReference>()
        .Append(MetadataReference.CreateFromFile(typeof(LockLease).Assembly.Location))
        .Append(MetadataReference.CreateFromFile(typeof(IDatabase).Assembly.Location))
        .ToImmutableArray();

    public const string GlobalUsingsFileName = "GlobalUsings.cs";

    public const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Locking;
        global using StackExchange.Redis;

        """;
}
