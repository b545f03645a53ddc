using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Locking.Declarations;

/// <summary>
/// The one parser of [Exclusive] declarations, compiled into both the generator and the analyzers so both
/// always agree on what a declaration means. It turns a method symbol and its attribute into an
/// <see cref="ExclusiveMethodSpec"/>: plain values, with every problem found as a <see cref="DeclarationProblem"/>.
/// </summary>
internal static class ExclusiveMethodParser
{
    /// <summary>The metadata name of the attribute.</summary>
    public const string AttributeMetadataName = "Locking.ExclusiveAttribute";

    /// <summary>The suffix of the body method's name.</summary>
    public const string CoreSuffix = "Core";

    /// <summary>The name of the [GeneratedCode] tool the generator stamps on what it writes.</summary>
    public const string GeneratorName = "Locking.Generators";

    private const int OnBusySkip = 1;

    // Namespaces of the well-known types, as the name checks walk them (no array per check).
    private static readonly string[] s_nsLocking = { "Locking" };
    private static readonly string[] s_nsSystemCodeDomCompiler = { "System", "CodeDom", "Compiler" };
    private static readonly string[] s_nsSystemCollections = { "System", "Collections" };
    private static readonly string[] s_nsSystemCollectionsGeneric = { "System", "Collections", "Generic" };
    private static readonly string[] s_nsSystemThreading = { "System", "Threading" };
    private static readonly string[] s_nsSystemThreadingTasks = { "System", "Threading", "Tasks" };

    /// <summary>Fully qualified, with nullable reference annotations: what the generated code writes.</summary>
    public static readonly SymbolDisplayFormat FullyQualified = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Short names as a user reads them, for messages.</summary>
    public static readonly SymbolDisplayFormat Readable = SymbolDisplayFormat.MinimallyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    // Displaying a type is the parser's most costly step, and the same few types (CancellationToken, Task<T>, the
    // user's model types) recur across methods. Keyed by symbol instance, so it ends with the compilation.
    private static readonly ConditionalWeakTable<ITypeSymbol, string> s_fullyQualifiedNames = new();

    /// <summary>The fully qualified name of <paramref name="type"/> with nullable annotations, as generated code writes it.</summary>
    public static string FullyQualifiedName(ITypeSymbol type)
        => s_fullyQualifiedNames.GetValue(type, static t => t.ToDisplayString(FullyQualified));

    /// <summary>The name of the body method of <paramref name="methodName"/>.</summary>
    public static string CoreNameOf(string methodName) => methodName + CoreSuffix;

    /// <summary>Whether <paramref name="type"/> is Locking.ExclusiveAttribute.</summary>
    public static bool IsExclusiveAttribute(INamedTypeSymbol? type) => IsType(type, "ExclusiveAttribute", s_nsLocking);

    /// <summary>The [Exclusive] attribute of <paramref name="method"/>, or null.</summary>
    public static AttributeData? FindAttribute(IMethodSymbol method)
    {
        foreach (var attribute in method.GetAttributes())
        {
            if (IsExclusiveAttribute(attribute.AttributeClass))
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="type"/> is or implements Locking.ILockProvider.</summary>
    public static bool IsLockProvider(ITypeSymbol? type)
    {
        if (type is null)
        {
            return false;
        }

        if (IsType(type, "ILockProvider", s_nsLocking))
        {
            return true;
        }

        foreach (var implemented in type.AllInterfaces)
        {
            if (IsType(implemented, "ILockProvider", s_nsLocking))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="type"/> is Locking.LockLease.</summary>
    public static bool IsLockLease(ITypeSymbol? type) => IsType(type, "LockLease", s_nsLocking);

    /// <summary>Whether <paramref name="type"/> is System.Threading.CancellationToken.</summary>
    public static bool IsCancellationToken(ITypeSymbol? type) => IsType(type, "CancellationToken", s_nsSystemThreading);

    /// <summary>
    /// Whether <paramref name="implementation"/> is the implementation part the generator wrote (it carries
    /// [GeneratedCode("Locking.Generators", ...)]), as opposed to one the user wrote.
    /// </summary>
    public static bool IsGeneratedImplementation(IMethodSymbol implementation)
    {
        foreach (var attribute in implementation.GetAttributes())
        {
            if (IsType(attribute.AttributeClass, "GeneratedCodeAttribute", s_nsSystemCodeDomCompiler)
                && attribute.ConstructorArguments.Length > 0
                && attribute.ConstructorArguments[0].Value as string == GeneratorName)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The body method <c>{Name}Core</c> of an [Exclusive] method that matches it, or null.</summary>
    public static IMethodSymbol? FindCoreMethod(IMethodSymbol method)
        => FindCore(method, GetShape(method), out _);

    /// <summary>Parses the declaration of <paramref name="method"/> marked with <paramref name="attribute"/>.</summary>
    public static ExclusiveMethodSpec Parse(IMethodSymbol method, AttributeData attribute, Compilation compilation, CancellationToken cancellationToken)
    {
        var problems = new List<DeclarationProblem>();
        var type = method.ContainingType;
        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } containing ? containing.ToDisplayString() : "";
        var containingTypes = ContainingTypes(type);
        var definition = DefinitionSyntax(method);
        var shape = GetShape(method);
        var parameters = ParseParameters(method);
        var coreName = CoreNameOf(method.Name);

        var canImplement = CheckTarget(method, definition, coreName, problems);
        cancellationToken.ThrowIfCancellationRequested();

        // The attribute's values; an argument that does not compile reads as its default.
        var keyText = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
        string ttlText = "30s", waitText = "5s";
        string? workText = null, store = null;
        bool renew = true, skip = false;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Ttl": ttlText = named.Value.Value as string ?? ""; break;
                case "Wait": waitText = named.Value.Value as string ?? ""; break;
                case "Work": workText = named.Value.Value as string; break;
                case "Renew": renew = named.Value.Value is not false; break;
                case "OnBusy": skip = named.Value.Value is int onBusy && onBusy == OnBusySkip; break;
                case "Store": store = named.Value.Value as string; break;
            }
        }

        var ttl = ParseDuration("Ttl", ttlText, ProblemSite.TtlArgument, problems, ticks =>
            Durations.IsInfinite(ticks) ? "the lease Ttl cannot be infinite; keep it finite and let Renew extend it"
            : ticks <= 0 ? "the lease Ttl must be positive"
            : ticks > Durations.MaxTtlTicks ? "the lease Ttl may be at most one day"
            : null);
        var wait = ParseDuration("Wait", waitText, ProblemSite.WaitArgument, problems, ticks =>
            ticks < 0 && !Durations.IsInfinite(ticks) ? "the Wait must not be negative" : null);
        long? work = workText is null ? null : ParseDuration("Work", workText, ProblemSite.WorkArgument, problems, ticks =>
            ticks <= 0 && !Durations.IsInfinite(ticks) ? "the declared Work must be positive" : null);
        if (!renew && ttl is { } ttlTicks && work is { } workTicks && (Durations.IsInfinite(workTicks) || workTicks > ttlTicks))
        {
            problems.Add(Problem(DiagnosticIds.TtlShorterThanWork, ProblemSite.WorkArgument, method.Name, ttlText, workText!));
        }

        var key = KeyTemplate.Parse(keyText);
        var keyParts = ResolveKey(method, key, compilation, problems);
        cancellationToken.ThrowIfCancellationRequested();

        var provider = ResolveProvider(method, type, ns, containingTypes, store, problems, out var candidates);
        var core = FindCore(method, shape, out var coreArguments, out var mismatch);
        if (core is null && !HasProblem(problems, DiagnosticIds.InvalidTarget))
        {
            // A body method that exists but does not fit says why, so the user need not compare the lists by eye.
            problems.Add(Problem(DiagnosticIds.MissingCoreMethod, ProblemSite.MethodName, method.Name, coreName, ExpectedCoreParameters(method),
                mismatch is null ? "" : "; the existing " + mismatch));
        }

        return new ExclusiveMethodSpec
        {
            Namespace = ns,
            ContainingTypes = containingTypes,
            TypeMetadataName = MetadataName(type, ns),
            Name = method.Name,
            Identifier = Escape(method.Name),
            Modifiers = definition is null ? "" : ModifiersOf(definition),
            IsStatic = method.IsStatic,
            TypeParameters = method.TypeParameters.Length == 0 ? "" : "<" + string.Join(", ", method.TypeParameters.Select(t => Escape(t.Name))) + ">",
            Constraints = Constraints(method.TypeParameters),
            ReturnType = method.ReturnsVoid ? "void" : FullyQualifiedName(method.ReturnType),
            Shape = shape,
            Parameters = parameters,
            Key = key,
            KeyParts = keyParts,
            TtlTicks = ttl ?? TimeSpan.TicksPerSecond * 30,
            WaitTicks = wait ?? TimeSpan.TicksPerSecond * 5,
            WorkTicks = work,
            Renew = renew,
            SkipWhenBusy = skip,
            Store = store,
            Provider = provider,
            PrimaryConstructorProviders = (provider is null ? candidates : new List<ProviderSpec> { provider })
                .Where(p => p.Kind == ProviderKind.PrimaryConstructorParameter)
                .Select(p => p.Access)
                .ToEquatableArray(),
            CoreName = coreName,
            HasCore = core is not null,
            CoreIsStatic = core?.IsStatic ?? false,
            CoreArguments = coreArguments,
            CanImplement = canImplement,
            Problems = problems.ToEquatableArray(),
        };
    }

    /// <summary>Where a problem found by <see cref="Parse"/> is reported.</summary>
    public static Location GetLocation(DeclarationProblem problem, IMethodSymbol method, AttributeData attribute)
    {
        var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax() as AttributeSyntax;
        var methodSyntax = attributeSyntax?.FirstAncestorOrSelf<MethodDeclarationSyntax>() ?? DefinitionSyntax(method);
        var methodName = methodSyntax?.Identifier.GetLocation() ?? (method.Locations.Length > 0 ? method.Locations[0] : Location.None);
        var argumentName = problem.Site switch
        {
            ProblemSite.TtlArgument => "Ttl",
            ProblemSite.WaitArgument => "Wait",
            ProblemSite.WorkArgument => "Work",
            ProblemSite.StoreArgument => "Store",
            _ => null,
        };

        if (problem.Site == ProblemSite.MethodName || attributeSyntax is null)
        {
            return methodName;
        }

        foreach (var argument in attributeSyntax.ArgumentList?.Arguments ?? default)
        {
            var isKey = argument.NameEquals is null && (argument.NameColon is null || argument.NameColon.Name.Identifier.ValueText == "key");
            if (argumentName is null ? isKey : argument.NameEquals?.Name.Identifier.ValueText == argumentName)
            {
                return argument.GetLocation();
            }
        }

        return problem.Site == ProblemSite.StoreArgument ? methodName : attributeSyntax.GetLocation();
    }

    private static bool CheckTarget(IMethodSymbol method, MethodDeclarationSyntax? definition, string coreName, List<DeclarationProblem> problems)
    {
        void Invalid(string reason, string message) => problems.Add(new DeclarationProblem(
            DiagnosticIds.InvalidTarget, ProblemSite.MethodName, new EquatableArray<string>(new[] { method.Name, message }), reason));

        if (method.IsAsync && method.ReturnsVoid)
        {
            Invalid(InvalidTargetReasons.AsyncVoid, "async void cannot be awaited, so the lease would be released while the body still runs; return Task");
            return false;
        }

        if (definition is not null && IsIterator(definition))
        {
            Invalid(InvalidTargetReasons.Iterator, "an iterator runs after the call returns, outside the lease; return a Task or a materialized result");
            return false;
        }

        var canImplement = true;
        var userImplementation = method.PartialImplementationPart is { } implementation && !IsGeneratedImplementation(implementation);
        if (method.PartialDefinitionPart is not null || userImplementation)
        {
            Invalid(InvalidTargetReasons.AlreadyImplemented, $"the generator writes its implementation; move the body to '{coreName}' and keep only the partial declaration");
            canImplement = false;
        }
        else if (!method.IsPartialDefinition)
        {
            Invalid(InvalidTargetReasons.NotPartial, $"it must be a partial method declaration without a body; the body goes in '{coreName}'");
            canImplement = false;
        }

        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            if (!IsPartial(type))
            {
                Invalid(InvalidTargetReasons.TypeNotPartial, $"its containing type '{type.Name}' must be partial");
                canImplement = false;
                break;
            }
        }

        foreach (var parameter in method.Parameters)
        {
            if (parameter.RefKind != RefKind.None)
            {
                var kind = parameter.RefKind switch { RefKind.Out => "out", RefKind.In => "in", RefKind.RefReadOnlyParameter => "ref readonly", _ => "ref" };
                Invalid(InvalidTargetReasons.RefParameter, $"parameter '{parameter.Name}' is passed by '{kind}', which the wrapper cannot hold across the acquire");
                break;
            }
        }

        foreach (var parameter in method.Parameters)
        {
            if (parameter.Type.IsRefLikeType)
            {
                Invalid(InvalidTargetReasons.RefStructParameter, $"parameter '{parameter.Name}' is a ref struct ('{parameter.Type.ToDisplayString(Readable)}'), which the wrapper cannot hold across the acquire");
                break;
            }
        }

        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            Invalid(InvalidTargetReasons.RefReturn, "it returns by reference, which cannot outlive the lease");
        }

        if (method.ReturnType is INamedTypeSymbol { Arity: 1 } returned && IsType(returned, "IAsyncEnumerable", s_nsSystemCollectionsGeneric))
        {
            Invalid(InvalidTargetReasons.AsyncEnumerable, "an async stream runs after the call returns, outside the lease; return a Task of a materialized result");
        }

        return canImplement;
    }

    private static bool IsIterator(MethodDeclarationSyntax method)
    {
        SyntaxNode? body = (SyntaxNode?)method.Body ?? method.ExpressionBody;
        return body is not null && body
            .DescendantNodes(node => node is not (AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax))
            .OfType<YieldStatementSyntax>()
            .Any();
    }

    private static bool IsPartial(INamedTypeSymbol type)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is TypeDeclarationSyntax declaration && declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return true;
            }
        }

        return false;
    }

    private static long? ParseDuration(string name, string text, ProblemSite site, List<DeclarationProblem> problems, Func<long, string?> check)
    {
        if (!Durations.TryParse(text, out var ticks, out var error))
        {
            problems.Add(Problem(DiagnosticIds.InvalidDuration, site, name, text, error));
            return null;
        }

        if (check(ticks) is { } invalid)
        {
            problems.Add(Problem(DiagnosticIds.InvalidDuration, site, name, text, invalid));
            return null;
        }

        return ticks;
    }

    private static EquatableArray<KeyPartSpec> ResolveKey(IMethodSymbol method, KeyTemplate key, Compilation compilation, List<DeclarationProblem> problems)
    {
        if (key.Error is not null)
        {
            problems.Add(Problem(DiagnosticIds.InvalidKeyTemplate, ProblemSite.KeyArgument, key.Text, key.Error));
            return EquatableArray<KeyPartSpec>.Empty;
        }

        var parts = new List<KeyPartSpec>();
        var valid = true;
        foreach (var segment in key.Segments)
        {
            if (!segment.IsPlaceholder)
            {
                parts.Add(new KeyPartSpec(segment.Text, null));
                continue;
            }

            var placeholder = ResolvePlaceholder(method, key, segment, compilation, problems);
            valid &= placeholder is not null;
            parts.Add(new KeyPartSpec("", placeholder));
        }

        return valid ? parts.ToEquatableArray() : EquatableArray<KeyPartSpec>.Empty;
    }

    private static PlaceholderSpec? ResolvePlaceholder(IMethodSymbol method, KeyTemplate key, KeySegment segment, Compilation compilation, List<DeclarationProblem> problems)
    {
        var first = Unescape(segment.Path[0]);
        var parameter = method.Parameters.FirstOrDefault(p => p.Name == first);
        if (parameter is null)
        {
            problems.Add(Problem(DiagnosticIds.InvalidKeyTemplate, ProblemSite.KeyArgument, key.Text,
                $"'{{{segment.Text}}}' names no parameter of '{method.Name}'"));
            return null;
        }

        var steps = new List<PlaceholderStep> { new(Escape(parameter.Name), CanBeNull(parameter.Type)) };
        var type = parameter.Type;
        for (var i = 1; i < segment.Path.Count; i++)
        {
            var name = Unescape(segment.Path[i]);
            var member = FindReadableMember(type, name, method.ContainingType, compilation);
            if (member is null)
            {
                problems.Add(Problem(DiagnosticIds.InvalidKeyTemplate, ProblemSite.KeyArgument, key.Text,
                    $"'{type.ToDisplayString(Readable)}' has no readable field or property '{name}' (in '{{{segment.Text}}}')"));
                return null;
            }

            type = member is IPropertySymbol property ? property.Type : ((IFieldSymbol)member).Type;
            steps.Add(new PlaceholderStep(Escape(name), CanBeNull(type)));
        }

        var format = type.SpecialType == SpecialType.System_String ? PlaceholderFormat.String
            : type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T ? PlaceholderFormat.NullableValue
            : PlaceholderFormat.Formatted;
        // Displaying a type is costly and only a message needs it.
        var typeDisplay = "";
        if (!HasStableText(type))
        {
            typeDisplay = type.ToDisplayString(Readable);
            problems.Add(Problem(DiagnosticIds.UnstableKeyPlaceholder, ProblemSite.KeyArgument, "{" + segment.Text + "}", typeDisplay));
        }

        return new PlaceholderSpec(segment.Text, parameter.Name, steps.ToEquatableArray(), format, typeDisplay);
    }

    private static ISymbol? FindReadableMember(ITypeSymbol type, string name, INamedTypeSymbol within, Compilation compilation)
    {
        IEnumerable<ITypeSymbol> Searched()
        {
            for (var current = type; current is not null; current = current.BaseType)
            {
                yield return current;
            }

            foreach (var implemented in type.AllInterfaces)
            {
                yield return implemented;
            }

            if (type is ITypeParameterSymbol parameter)
            {
                foreach (var constraint in parameter.ConstraintTypes)
                {
                    yield return constraint;
                }
            }
        }

        foreach (var searched in Searched())
        {
            foreach (var member in searched.GetMembers(name))
            {
                var readable = member switch
                {
                    IPropertySymbol { IsIndexer: false, IsStatic: false, GetMethod: { } getter } => compilation.IsSymbolAccessibleWithin(getter, within, type),
                    IFieldSymbol { IsStatic: false } => compilation.IsSymbolAccessibleWithin(member, within, type),
                    _ => false,
                };
                if (readable)
                {
                    return member;
                }
            }
        }

        return null;
    }

    private static bool CanBeNull(ITypeSymbol type)
        => type.IsReferenceType
           || type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T
           || type is ITypeParameterSymbol { HasValueTypeConstraint: false, HasUnmanagedTypeConstraint: false };

    /// <summary>
    /// Whether the text of a value of <paramref name="type"/> tells values apart: strings, primitives, enums,
    /// records and types with their own ToString do; object, delegates, collections and types that inherit
    /// object's ToString (their type name) do not. Interfaces and type parameters get the benefit of the doubt.
    /// </summary>
    private static bool HasStableText(ITypeSymbol type)
    {
        if (type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T && type is INamedTypeSymbol { TypeArguments.Length: 1 } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        if (type.SpecialType == SpecialType.System_Object || type.TypeKind is TypeKind.Delegate or TypeKind.Array or TypeKind.Pointer or TypeKind.FunctionPointer)
        {
            return false;
        }

        if (type.SpecialType != SpecialType.None || type.TypeKind is TypeKind.Enum or TypeKind.Interface or TypeKind.TypeParameter or TypeKind.Error or TypeKind.Dynamic)
        {
            return true;
        }

        if (type.AllInterfaces.Any(i => IsType(i, "IEnumerable", s_nsSystemCollections)))
        {
            return false;
        }

        for (var current = type; current is not null && current.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); current = current.BaseType)
        {
            if (current.GetMembers("ToString").Any(m => m is IMethodSymbol { IsOverride: true, Parameters.Length: 0 }))
            {
                return true;
            }
        }

        return false;
    }

    private static ProviderSpec? ResolveProvider(IMethodSymbol method, INamedTypeSymbol type, string ns, EquatableArray<ContainingTypeSpec> containingTypes, string? store,
        List<DeclarationProblem> problems, out List<ProviderSpec> all)
    {
        var fromMethod = method.Parameters.Where(p => IsLockProvider(p.Type))
            .Select(p => new ProviderSpec(ProviderKind.MethodParameter, p.Name, Escape(p.Name)))
            .ToList();
        var fromType = TypeProviders(method, type, ns, containingTypes);
        all = fromMethod.Concat(fromType).ToList();

        if (store is not null)
        {
            var named = all.FirstOrDefault(p => p.Name == store);
            if (named is null)
            {
                problems.Add(Problem(DiagnosticIds.ProviderNotFound, ProblemSite.StoreArgument, method.Name,
                    $"names Store = \"{store}\", but no ILockProvider {(method.IsStatic ? "static field, static property" : "field, property")} or parameter is called '{store}'"));
            }

            return named;
        }

        var candidates = fromMethod.Count > 0 ? fromMethod : fromType;
        if (candidates.Count == 1)
        {
            return candidates[0];
        }

        problems.Add(Problem(DiagnosticIds.ProviderNotFound, ProblemSite.MethodName, method.Name, candidates.Count == 0
            ? method.IsStatic
                ? "is static, so it needs an ILockProvider parameter (or a static ILockProvider field or property)"
                : $"has no ILockProvider: add a field, property or constructor parameter of type ILockProvider to '{type.Name}', or a parameter to the method"
            : $"can use several ILockProviders ({string.Join(", ", candidates.Select(c => c.Name))}); pick one with Store = nameof({candidates[0].Name})"));
        return null;
    }

    private static List<ProviderSpec> TypeProviders(IMethodSymbol method, INamedTypeSymbol type, string ns, EquatableArray<ContainingTypeSpec> containingTypes)
    {
        var found = new List<ProviderSpec>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        string StaticAccess() => "global::" + (ns.Length > 0 ? ns + "." : "") + string.Join(".", containingTypes.Select(t => t.Name));
        for (var current = type; current is not null; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                var (kind, memberType) = member switch
                {
                    IFieldSymbol field when !field.IsImplicitlyDeclared && !field.IsConst => (ProviderKind.Field, field.Type),
                    IPropertySymbol { IsIndexer: false, GetMethod: not null } property => (ProviderKind.Property, property.Type),
                    _ => (ProviderKind.Field, (ITypeSymbol?)null),
                };
                var visible = SymbolEqualityComparer.Default.Equals(current, type) || member.DeclaredAccessibility is not (Accessibility.Private or Accessibility.NotApplicable);
                if (memberType is null || !visible || !IsLockProvider(memberType) || (method.IsStatic && !member.IsStatic) || !names.Add(member.Name))
                {
                    continue;
                }

                found.Add(new ProviderSpec(kind, member.Name, (member.IsStatic ? StaticAccess() : "this") + "." + Escape(member.Name)));
            }
        }

        if (method.IsStatic)
        {
            return found;
        }

        // A primary-constructor parameter counts unless a member already holds it (a field initialized from it, a
        // property that reads it, or a record's positional property): that member is the same provider.
        var primary = type.InstanceConstructors.FirstOrDefault(c => c.DeclaringSyntaxReferences.Any(r => r.GetSyntax() is TypeDeclarationSyntax));
        if (primary is not null)
        {
            var initializers = InitializerIdentifiers(type);
            foreach (var parameter in primary.Parameters)
            {
                if (IsLockProvider(parameter.Type) && !names.Contains(parameter.Name) && !initializers.Contains(parameter.Name))
                {
                    found.Add(new ProviderSpec(ProviderKind.PrimaryConstructorParameter, parameter.Name, Escape(parameter.Name)));
                }
            }
        }

        return found;
    }

    private static HashSet<string> InitializerIdentifiers(INamedTypeSymbol type)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is not TypeDeclarationSyntax declaration)
            {
                continue;
            }

            foreach (var member in declaration.Members)
            {
                // Field initializers, and whole properties: a property reading the parameter is the same provider.
                IEnumerable<SyntaxNode> initializers = member switch
                {
                    FieldDeclarationSyntax field => field.Declaration.Variables.Where(v => v.Initializer is not null).Select(v => (SyntaxNode)v.Initializer!.Value),
                    PropertyDeclarationSyntax property => new[] { property },
                    _ => Enumerable.Empty<SyntaxNode>(),
                };
                foreach (var initializer in initializers)
                {
                    foreach (var identifier in initializer.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>())
                    {
                        names.Add(identifier.Identifier.ValueText);
                    }
                }
            }
        }

        return names;
    }

    private static IMethodSymbol? FindCore(IMethodSymbol method, ReturnShape shape, out EquatableArray<CoreArgumentSpec> arguments)
        => FindCore(method, shape, out arguments, out _);

    /// <summary>The matching Core method; when there is none but a method of that name exists, what is wrong with the first one.</summary>
    private static IMethodSymbol? FindCore(IMethodSymbol method, ReturnShape shape, out EquatableArray<CoreArgumentSpec> arguments, out string? mismatch)
    {
        mismatch = null;
        foreach (var member in method.ContainingType.GetMembers(CoreNameOf(method.Name)))
        {
            if (member is not IMethodSymbol candidate)
            {
                continue;
            }

            if (TryMatchCore(method, shape, candidate, out arguments, out var reason))
            {
                mismatch = null;
                return candidate;
            }

            mismatch ??= reason;
        }

        arguments = EquatableArray<CoreArgumentSpec>.Empty;
        return null;
    }

    private static bool TryMatchCore(IMethodSymbol method, ReturnShape shape, IMethodSymbol core, out EquatableArray<CoreArgumentSpec> arguments, out string mismatch)
    {
        arguments = EquatableArray<CoreArgumentSpec>.Empty;
        var coreName = core.Name;
        if (method.IsStatic && !core.IsStatic)
        {
            mismatch = $"'{coreName}' is an instance method, but '{method.Name}' is static";
            return false;
        }

        if (core.TypeParameters.Length != method.TypeParameters.Length)
        {
            mismatch = $"'{coreName}' has {core.TypeParameters.Length} type parameter(s), '{method.Name}' has {method.TypeParameters.Length}";
            return false;
        }

        if (core.IsAsync && core.ReturnsVoid)
        {
            mismatch = $"'{coreName}' is async void, so the lease would be released while it still runs";
            return false;
        }

        if (core.IsGenericMethod)
        {
            core = core.Construct(method.TypeParameters.Cast<ITypeSymbol>().ToArray());
        }

        var callerHasToken = method.Parameters.Any(p => IsCancellationToken(p.Type));
        var list = new List<CoreArgumentSpec>();
        bool leaseTaken = false, tokenTaken = false;
        var next = 0;
        foreach (var parameter in core.Parameters)
        {
            var wrapperParameter = next < method.Parameters.Length ? method.Parameters[next] : null;
            if (wrapperParameter is not null && parameter.RefKind == wrapperParameter.RefKind && SameType(parameter.Type, wrapperParameter.Type))
            {
                var isCallerToken = IsCancellationToken(wrapperParameter.Type) && FirstTokenIndex(method) == next;
                list.Add(isCallerToken ? new CoreArgumentSpec(CoreArgumentKind.BodyToken, -1) : new CoreArgumentSpec(CoreArgumentKind.Parameter, next));
                next++;
            }
            else if (!leaseTaken && parameter.RefKind == RefKind.None && IsLockLease(parameter.Type))
            {
                leaseTaken = true;
                list.Add(new CoreArgumentSpec(CoreArgumentKind.Lease, -1));
            }
            else if (!tokenTaken && !callerHasToken && parameter.RefKind == RefKind.None && IsCancellationToken(parameter.Type))
            {
                tokenTaken = true;
                list.Add(new CoreArgumentSpec(CoreArgumentKind.BodyToken, -1));
            }
            else
            {
                mismatch = wrapperParameter is not null
                    ? $"'{coreName}' has '{Describe(parameter)}' where '{Describe(wrapperParameter)}' is expected"
                    : $"'{coreName}' has '{Describe(parameter)}' after all of '{method.Name}''s parameters; only one LockLease{(callerHasToken ? "" : " and one CancellationToken")} may be added";
                return false;
            }
        }

        if (next != method.Parameters.Length)
        {
            mismatch = $"'{coreName}' lacks the parameter '{Describe(method.Parameters[next])}'";
            return false;
        }

        if (!ReturnMatches(method, shape, core))
        {
            mismatch = $"'{coreName}' returns '{core.ReturnType.ToDisplayString(Readable)}', which does not fit '{method.ReturnType.ToDisplayString(Readable)}'";
            return false;
        }

        arguments = list.ToEquatableArray();
        mismatch = "";
        return true;
    }

    private static string Describe(IParameterSymbol parameter)
        => (parameter.RefKind switch { RefKind.Ref => "ref ", RefKind.Out => "out ", RefKind.In => "in ", _ => "" })
           + parameter.Type.ToDisplayString(Readable) + " " + parameter.Name;

    private static int FirstTokenIndex(IMethodSymbol method)
    {
        for (var i = 0; i < method.Parameters.Length; i++)
        {
            if (IsCancellationToken(method.Parameters[i].Type))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool ReturnMatches(IMethodSymbol method, ReturnShape shape, IMethodSymbol core)
    {
        var coreShape = GetShape(core);
        switch (shape)
        {
            case ReturnShape.Task or ReturnShape.ValueTask:
                return coreShape is ReturnShape.Task or ReturnShape.ValueTask;
            case ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT:
                return coreShape is ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT
                       && SameType(((INamedTypeSymbol)core.ReturnType).TypeArguments[0], ((INamedTypeSymbol)method.ReturnType).TypeArguments[0]);
            case ReturnShape.Void:
                return core.ReturnsVoid;
            default:
                return !core.ReturnsVoid && core.RefKind == RefKind.None && SameType(core.ReturnType, method.ReturnType);
        }
    }

    private static bool SameType(ITypeSymbol left, ITypeSymbol right) => SymbolEqualityComparer.Default.Equals(left, right);

    private static string ExpectedCoreParameters(IMethodSymbol method)
    {
        var parts = method.Parameters.Select(p => p.Type.ToDisplayString(Readable) + " " + p.Name).ToList();
        parts.Add("LockLease lease");
        if (!method.Parameters.Any(p => IsCancellationToken(p.Type)))
        {
            parts.Add("CancellationToken cancellationToken");
        }

        return string.Join(", ", parts);
    }

    private static ReturnShape GetShape(IMethodSymbol method)
    {
        if (method.ReturnsVoid)
        {
            return ReturnShape.Void;
        }

        if (method.ReturnType is INamedTypeSymbol named && IsType(named, named.Name, s_nsSystemThreadingTasks))
        {
            switch (named.MetadataName)
            {
                case "Task": return ReturnShape.Task;
                case "Task`1": return ReturnShape.TaskOfT;
                case "ValueTask": return ReturnShape.ValueTask;
                case "ValueTask`1": return ReturnShape.ValueTaskOfT;
            }
        }

        return ReturnShape.Value;
    }

    private static EquatableArray<ParameterSpec> ParseParameters(IMethodSymbol method)
    {
        var tokenIndex = FirstTokenIndex(method);
        var parameters = new ParameterSpec[method.Parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            var parameter = method.Parameters[i];
            var modifiers = new StringBuilder();
            if (i == 0 && method.IsExtensionMethod)
            {
                modifiers.Append("this ");
            }

            if (parameter.IsParams)
            {
                modifiers.Append("params ");
            }

            modifiers.Append(parameter.RefKind switch
            {
                RefKind.Ref => "ref ",
                RefKind.Out => "out ",
                RefKind.In => "in ",
                RefKind.RefReadOnlyParameter => "ref readonly ",
                _ => "",
            });
            parameters[i] = new ParameterSpec(Escape(parameter.Name), FullyQualifiedName(parameter.Type), modifiers.ToString(), i == tokenIndex);
        }

        return new EquatableArray<ParameterSpec>(parameters);
    }

    private static string Constraints(IReadOnlyList<ITypeParameterSymbol> typeParameters)
    {
        var text = new StringBuilder();
        foreach (var parameter in typeParameters)
        {
            var constraints = new List<string>();
            if (parameter.HasReferenceTypeConstraint)
            {
                constraints.Add(parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
            }
            else if (parameter.HasUnmanagedTypeConstraint)
            {
                constraints.Add("unmanaged");
            }
            else if (parameter.HasValueTypeConstraint)
            {
                constraints.Add("struct");
            }
            else if (parameter.HasNotNullConstraint)
            {
                constraints.Add("notnull");
            }

            constraints.AddRange(parameter.ConstraintTypes.Select(FullyQualifiedName));
            if (parameter.HasConstructorConstraint && !parameter.HasValueTypeConstraint)
            {
                constraints.Add("new()");
            }

            if (constraints.Count > 0)
            {
                text.Append(" where ").Append(Escape(parameter.Name)).Append(" : ").Append(string.Join(", ", constraints));
            }
        }

        return text.ToString();
    }

    private static EquatableArray<ContainingTypeSpec> ContainingTypes(INamedTypeSymbol type)
    {
        var chain = new List<ContainingTypeSpec>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            var keyword = current.IsRecord
                ? current.TypeKind == TypeKind.Struct ? "record struct" : "record"
                : current.TypeKind switch { TypeKind.Struct => "struct", TypeKind.Interface => "interface", _ => "class" };
            var name = Escape(current.Name) + (current.TypeParameters.Length == 0 ? "" : "<" + string.Join(", ", current.TypeParameters.Select(t => Escape(t.Name))) + ">");
            chain.Insert(0, new ContainingTypeSpec(keyword, name));
        }

        return chain.ToEquatableArray();
    }

    private static string MetadataName(INamedTypeSymbol type, string ns)
    {
        var name = type.MetadataName;
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            name = outer.MetadataName + "+" + name;
        }

        return ns.Length > 0 ? ns + "." + name : name;
    }

    private static string ModifiersOf(MethodDeclarationSyntax definition)
        => string.Join(" ", definition.Modifiers
            .Where(m => !m.IsKind(SyntaxKind.PartialKeyword) && !m.IsKind(SyntaxKind.AsyncKeyword) && !m.IsKind(SyntaxKind.ExternKeyword))
            .Select(m => m.Text));

    private static MethodDeclarationSyntax? DefinitionSyntax(IMethodSymbol method)
    {
        foreach (var reference in method.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is MethodDeclarationSyntax syntax)
            {
                return syntax;
            }
        }

        return null;
    }

    private static bool HasProblem(List<DeclarationProblem> problems, string id) => problems.Any(p => p.Id == id);

    private static DeclarationProblem Problem(string id, ProblemSite site, params string[] args) => new(id, site, new EquatableArray<string>(args));

    /// <summary>The identifier as C# must write it: a reserved keyword gets '@'.</summary>
    public static string Escape(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static string Unescape(string name) => name.StartsWith("@", StringComparison.Ordinal) ? name.Substring(1) : name;

    private static bool IsType(ITypeSymbol? type, string name, string[] namespaces)
    {
        if (type is null || type.Name != name || type.ContainingType is not null)
        {
            return false;
        }

        var ns = type.ContainingNamespace;
        for (var i = namespaces.Length - 1; i >= 0; i--)
        {
            if (ns is null || ns.Name != namespaces[i])
            {
                return false;
            }

            ns = ns.ContainingNamespace;
        }

        return ns is { IsGlobalNamespace: true };
    }
}
