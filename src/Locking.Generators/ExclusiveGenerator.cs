using Microsoft.CodeAnalysis;

namespace Locking.Generators;

/// <summary>Implements every [Exclusive] partial method: acquire, run the Core body, release.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class ExclusiveGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
    }
}
