using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>How far an owner value tells one holder of a lock from another.</summary>
internal enum OwnerScope
{
    /// <summary>The code does not show (a parameter, a call of unknown code): never reported.</summary>
    Unknown,

    /// <summary>A new value per acquisition (a GUID, random bytes): what an owner must be.</summary>
    PerAcquisition,

    /// <summary>Set once per instance of the type (a readonly field set from a GUID in the constructor).</summary>
    PerInstance,

    /// <summary>The same for every holder: a constant, the machine name, a process or thread id, a value of the key, a static set once.</summary>
    Shared,
}

/// <summary>An owner value's scope and, when it is shared, why (for the message).</summary>
internal readonly record struct OwnerValue(OwnerScope Scope, string Why)
{
    public static OwnerValue Unknown { get; } = new(OwnerScope.Unknown, "");

    public static OwnerValue PerAcquisition { get; } = new(OwnerScope.PerAcquisition, "");

    public static OwnerValue Constant { get; } = new(OwnerScope.Shared, "a constant");

    public static OwnerValue Shared(string why) => new(OwnerScope.Shared, why);

    /// <summary>
    /// The scope of a value built from parts: one per-acquisition part makes it unique; an unknown part makes it
    /// unknown; otherwise it is as wide as its widest part. A constant part says less than any other shared part.
    /// </summary>
    public static OwnerValue Combine(IEnumerable<OwnerValue> parts)
    {
        OwnerValue? result = null;
        foreach (var part in parts)
        {
            if (part.Scope == OwnerScope.PerAcquisition)
            {
                return part;
            }

            result = result is not { } current ? part
                : current.Scope == OwnerScope.Unknown || part.Scope == OwnerScope.Unknown ? Unknown
                : current.Scope == OwnerScope.PerInstance ? current
                : part.Scope == OwnerScope.PerInstance ? part
                : current.Why == Constant.Why ? part
                : current;
        }

        return result ?? Constant;
    }
}

/// <summary>
/// Classifies the owner value a lock is taken, released or extended with: whether each acquisition gets its own
/// value, or every holder passes the same one (so a compare-and-delete cannot tell a holder whose lease ran out
/// from the one that holds the lock now).
/// </summary>
internal sealed class OwnerClassifier
{
    private const int MaxDepth = 4;

    /// <summary>Why an owner read from the key's own values is shared: every holder of that key computes the same.</summary>
    public const string DerivedFromKey = "derived from the key";

    private readonly INamedTypeSymbol _type;
    private readonly TypeMembers _members;
    private readonly LocalValues _locals;

    public OwnerClassifier(INamedTypeSymbol type, TypeMembers members, LocalValues locals)
    {
        _type = type;
        _members = members;
        _locals = locals;
    }

    /// <summary>The owner value of <paramref name="owner"/>, used with the lock key <paramref name="key"/> (null: no key to compare with).</summary>
    public OwnerValue Classify(IOperation owner, RedisKeyIdentity? key)
        => Classify(owner, key, MaxDepth);

    private OwnerValue Classify(IOperation operation, RedisKeyIdentity? key, int depth)
    {
        operation = RedisKeyIdentity.Unwrap(operation);
        if (depth <= 0)
        {
            return OwnerValue.Unknown;
        }

        if (operation.ConstantValue.HasValue || operation is IDefaultValueOperation or ILiteralOperation or ITypeOfOperation or INameOfOperation)
        {
            return OwnerValue.Constant;
        }

        switch (operation)
        {
            case IInterpolatedStringOperation interpolated:
                return OwnerValue.Combine(interpolated.Parts.Select(p => p switch
                {
                    IInterpolationOperation interpolation => Classify(interpolation.Expression, key, depth - 1),
                    _ => OwnerValue.Constant,
                }));
            case IBinaryOperation { OperatorKind: BinaryOperatorKind.Add } add:
                return OwnerValue.Combine(new[] { Classify(add.LeftOperand, key, depth - 1), Classify(add.RightOperand, key, depth - 1) });
            case IParameterReferenceOperation parameter:
                return Parameter(parameter.Parameter, key, depth);
            case ILocalReferenceOperation local:
                var values = LocalValues.AllValues(local).ToList();
                var assigned = values.Count == 0 || values.Any(v => v is null)
                    ? OwnerValue.Unknown
                    : OwnerValue.Combine(values.Select(v => Classify(v!, key, depth - 1)));
                // A local the key is built from is the key's own value, unless it is new per acquisition.
                return IsKeySource(key, local.Local) && assigned.Scope != OwnerScope.PerAcquisition
                    ? OwnerValue.Shared(DerivedFromKey)
                    : assigned;
            case IFieldReferenceOperation field:
                return Member(field.Field, field, field.Instance, key, depth);
            case IPropertyReferenceOperation { Arguments.Length: 0 } property:
                return Member(property.Property, property, property.Instance, key, depth);
            case IInvocationOperation invocation:
                return Invocation(invocation, key, depth);
            case IObjectCreationOperation { Type.Name: "Guid" or "Random" }:
                return OwnerValue.Unknown;
            case IArrayCreationOperation { Initializer: { } initializer }:
                return OwnerValue.Combine(initializer.ElementValues.Select(v => Classify(v, key, depth - 1)));
            case IAwaitOperation awaited:
                return Classify(awaited.Operation, key, depth - 1);
            default:
                return OwnerValue.Unknown;
        }
    }

    private static bool IsKeySource(RedisKeyIdentity? key, ISymbol symbol) => key is not null && key.Sources.Contains(symbol, SymbolEqualityComparer.Default);

    private OwnerValue Parameter(IParameterSymbol parameter, RedisKeyIdentity? key, int depth)
    {
        if (IsKeySource(key, parameter))
        {
            return OwnerValue.Shared(DerivedFromKey);
        }

        if (parameter.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor })
        {
            // A primary-constructor parameter read in a member: one value for the instance's life.
            return new OwnerValue(OwnerScope.PerInstance, "a constructor argument kept for the instance's life");
        }

        // A private helper of this type: what its callers here pass.
        if (parameter.ContainingSymbol is IMethodSymbol { DeclaredAccessibility: Accessibility.Private } method
            && _members.CallsOf(method) is { Count: > 0 } calls)
        {
            var passed = new List<OwnerValue>();
            foreach (var call in calls)
            {
                var argument = call.Arguments.FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.Parameter?.OriginalDefinition, parameter.OriginalDefinition));
                if (argument is null || argument.ArgumentKind == ArgumentKind.DefaultValue)
                {
                    return OwnerValue.Unknown;
                }

                passed.Add(Classify(argument.Value, null, depth - 1));
            }

            return OwnerValue.Combine(passed);
        }

        return OwnerValue.Unknown;
    }

    private OwnerValue Member(ISymbol member, IOperation reference, IOperation? instance, RedisKeyIdentity? key, int depth)
    {
        if (WellKnown(member) is { } known)
        {
            return known;
        }

        if (!RedisKeyIdentity.IsOwnMember(instance))
        {
            // options.Owner, request.Id: the value of another object; shared when the key is built from that very value.
            if (key is not null && key.Holes.Contains(RedisKeyIdentity.Normalize(reference.Syntax.ToString())))
            {
                return OwnerValue.Shared(DerivedFromKey);
            }

            // Stored data of an object the type keeps for its life (Lazy<T>.Value, IOptions<T>.Value, a settings
            // object's field or auto-property): as shared as the object that holds it.
            if (instance is not null && IsStoredValue(member))
            {
                var holder = Classify(instance, null, depth - 1);
                return holder.Scope switch
                {
                    OwnerScope.Shared => holder,
                    OwnerScope.PerInstance => new OwnerValue(OwnerScope.PerInstance, "a value read from an object the instance keeps for its life"),
                    _ => OwnerValue.Unknown,
                };
            }

            return OwnerValue.Unknown;
        }

        if (member is IFieldSymbol { IsConst: true })
        {
            return OwnerValue.Constant;
        }

        if (member.GetAttributes().Any(a => a.AttributeClass?.Name == "ThreadStaticAttribute"))
        {
            return OwnerValue.Shared("a thread-static field, one value per thread");
        }

        if (Getter(member, reference.SemanticModel) is { } getter)
        {
            // A computed property: what its getter returns.
            return Classify(getter, key, depth - 1);
        }

        var settable = member switch
        {
            IFieldSymbol field => !field.IsReadOnly,
            IPropertySymbol property => property.SetMethod is { IsInitOnly: false } || property.DeclaringSyntaxReferences.Length == 0,
            _ => true,
        };

        if (!_members.IsOwn(member))
        {
            // Declared by another type: a static that cannot be set again is one value per process.
            return member.IsStatic && !settable && member is IFieldSymbol or IPropertySymbol { IsAbstract: false }
                ? OwnerValue.Shared("a static member set once per process")
                : OwnerValue.Unknown;
        }

        var assignments = _members.AssignmentsOf(member);
        if (assignments.Count == 0 || (settable && member.DeclaredAccessibility != Accessibility.Private))
        {
            // Never assigned here, or others may assign it.
            return OwnerValue.Unknown;
        }

        OwnerValue Of(MemberAssignment a) => a.Value is null ? OwnerValue.Unknown : Classify(a.Value, null, depth - 1);
        var later = assignments.Where(a => !a.AtConstruction).ToList();
        if (later.Count > 0)
        {
            // Assigned in ordinary methods (per acquisition, say): what it is assigned there.
            return OwnerValue.Combine(later.Select(Of));
        }

        var initial = OwnerValue.Combine(assignments.Select(Of));
        if (initial.Scope == OwnerScope.Shared)
        {
            return initial;
        }

        return member.IsStatic
            ? OwnerValue.Shared("a static member set once per process")
            : new OwnerValue(OwnerScope.PerInstance, "a field set once per instance");
    }

    /// <summary>
    /// Whether reading the member gives back a value stored once, not one computed per read: Lazy&lt;T&gt;.Value,
    /// IOptions&lt;T&gt;.Value, a field, or an auto-property declared in source.
    /// </summary>
    private static bool IsStoredValue(ISymbol member)
    {
        switch (member)
        {
            case IPropertySymbol { Name: "Value", ContainingType: { Name: "Lazy" or "IOptions" or "IOptionsSnapshot" } }:
                return true;
            case IFieldSymbol { IsConst: false }:
                return true;
            case IPropertySymbol property when property.DeclaringSyntaxReferences.Length > 0:
                return property.DeclaringSyntaxReferences.All(r => r.GetSyntax() is PropertyDeclarationSyntax { ExpressionBody: null, AccessorList: { } accessors }
                    && accessors.Accessors.All(a => a.Body is null && a.ExpressionBody is null));
            default:
                return false;
        }
    }

    /// <summary>The expression a computed property returns, when it is declared in the same file.</summary>
    private static IOperation? Getter(ISymbol member, SemanticModel? model)
    {
        if (member is not IPropertySymbol property || model is null || property.DeclaringSyntaxReferences.Length != 1
            || property.DeclaringSyntaxReferences[0].SyntaxTree != model.SyntaxTree)
        {
            return null;
        }

        ExpressionSyntax? expression = property.DeclaringSyntaxReferences[0].GetSyntax() switch
        {
            PropertyDeclarationSyntax { ExpressionBody.Expression: var arrow } => arrow,
            PropertyDeclarationSyntax { AccessorList.Accessors: var accessors } => accessors.FirstOrDefault(a => a.Keyword.ValueText == "get") switch
            {
                { ExpressionBody.Expression: var arrow } => arrow,
                { Body.Statements: [ReturnStatementSyntax { Expression: var returned }] } => returned,
                _ => null,
            },
            _ => null,
        };
        return expression is null ? null : model.GetOperation(expression);
    }

    private OwnerValue Invocation(IInvocationOperation invocation, RedisKeyIdentity? key, int depth)
    {
        var method = invocation.TargetMethod;
        var type = method.ContainingType;
        var typeName = type?.Name;

        if (IsRandom(method))
        {
            return OwnerValue.PerAcquisition;
        }

        switch (typeName, method.Name)
        {
            case ("Dns", "GetHostName"):
                return OwnerValue.Shared("the machine name");
            case ("Process", "GetCurrentProcess"):
                return OwnerValue.Shared("the process");
            case ("Thread", "GetCurrentProcessorId"):
            case ("Environment", "GetEnvironmentVariable"):
                return OwnerValue.Shared("an environment value of the process");
        }

        // Conversions and formatting: as unique as what they convert.
        if (method.Name is "ToString" or "ToLower" or "ToLowerInvariant" or "ToUpper" or "ToUpperInvariant" or "Trim" or "Substring" or "Replace"
                or "ToByteArray" or "ToBase64String" or "ToHexString" or "ToHexStringLower" or "GetBytes" or "GetString" or "Format" or "Concat" or "Join"
                or "ToInt32" or "ToInt64" or "Parse" or "ToArray" or "AsSpan"
            || typeName is "Convert" or "BitConverter" or "Encoding" or "String")
        {
            var parts = new List<OwnerValue>();
            if (invocation.Instance is { } instance)
            {
                parts.Add(Classify(instance, key, depth - 1));
            }

            foreach (var argument in invocation.Arguments)
            {
                if (argument.ArgumentKind != ArgumentKind.DefaultValue && argument.Value.Type?.Name is not ("IFormatProvider" or "CultureInfo"))
                {
                    parts.Add(Classify(argument.Value, key, depth - 1));
                }
            }

            return OwnerValue.Combine(parts);
        }

        // A helper of this type that returns one expression: what it returns (its parameters are unknown).
        if (SymbolEqualityComparer.Default.Equals(type, _type) && HelperBody(invocation) is { } body)
        {
            return Classify(body, null, depth - 1);
        }

        return OwnerValue.Unknown;
    }

    /// <summary>Whether a method makes a new random value each call (a GUID, random bytes or numbers, a ULID).</summary>
    internal static bool IsRandom(IMethodSymbol method) => (method.ContainingType?.Name, method.Name) switch
    {
        ("Guid", "NewGuid" or "CreateVersion7") => true,
        ("RandomNumberGenerator", _) => method.ContainingNamespace?.ToDisplayString() == "System.Security.Cryptography",
        ("Random", _) => method.ContainingType.ContainingNamespace?.Name == "System",
        ("Ulid", "NewUlid") => true,
        ("ObjectId", "GenerateNewId") => true,
        _ => false,
    };

    /// <summary>Members whose value the runtime fixes for a machine, process or thread.</summary>
    private static OwnerValue? WellKnown(ISymbol member)
    {
        var type = member.ContainingType?.Name;
        return (type, member.Name) switch
        {
            ("Environment", "MachineName") => OwnerValue.Shared("the machine name"),
            ("Environment", "UserName" or "UserDomainName") => OwnerValue.Shared("the user name"),
            ("Environment", "ProcessId" or "ProcessPath" or "CommandLine") => OwnerValue.Shared("the process id"),
            ("Environment", "CurrentManagedThreadId") => OwnerValue.Shared("a thread id"),
            ("Thread", "ManagedThreadId" or "Name") => OwnerValue.Shared("a thread id"),
            ("Thread", "CurrentThread") => OwnerValue.Shared("a thread id"),
            ("Process", "Id" or "ProcessName" or "MachineName" or "SessionId") => OwnerValue.Shared("the process id"),
            ("AppDomain", "CurrentDomain" or "FriendlyName" or "Id") => OwnerValue.Shared("the process id"),
            ("Guid", "Empty") => OwnerValue.Constant,
            ("String", "Empty") => OwnerValue.Constant,
            ("DateTime" or "DateTimeOffset", "MinValue" or "MaxValue") => OwnerValue.Constant,
            ("DateTime" or "DateTimeOffset" or "Stopwatch", _) => OwnerValue.Unknown,
            _ => null,
        };
    }

    private static IOperation? HelperBody(IInvocationOperation call)
    {
        var model = call.SemanticModel;
        var references = call.TargetMethod.DeclaringSyntaxReferences;
        if (model is null || references.Length != 1 || references[0].SyntaxTree != model.SyntaxTree)
        {
            return null;
        }

        ExpressionSyntax? expression = references[0].GetSyntax() switch
        {
            MethodDeclarationSyntax { ExpressionBody.Expression: var arrow } => arrow,
            MethodDeclarationSyntax { Body.Statements: [ReturnStatementSyntax { Expression: var returned }] } => returned,
            _ => null,
        };
        return expression is null ? null : model.GetOperation(expression);
    }
}

/// <summary>
/// What the analyzer saw of a type's own members: the values its fields and properties are given (initializers,
/// constructor and ordinary assignments) and the calls of its own methods. Collected from concurrent operation
/// callbacks.
/// </summary>
internal sealed class TypeMembers
{
    private readonly INamedTypeSymbol _type;
    private readonly Dictionary<ISymbol, List<MemberAssignment>> _assignments = new(SymbolEqualityComparer.Default);
    private readonly Dictionary<IMethodSymbol, List<IInvocationOperation>> _calls = new(SymbolEqualityComparer.Default);

    public TypeMembers(INamedTypeSymbol type) => _type = type.OriginalDefinition;

    public void AddAssignment(ISymbol member, IOperation? value, bool atConstruction)
    {
        lock (_assignments)
        {
            member = member.OriginalDefinition;
            if (!_assignments.TryGetValue(member, out var list))
            {
                _assignments.Add(member, list = new List<MemberAssignment>());
            }

            list.Add(new MemberAssignment(value, atConstruction));
        }
    }

    public void AddCall(IInvocationOperation call)
    {
        lock (_calls)
        {
            var method = call.TargetMethod.OriginalDefinition;
            if (!_calls.TryGetValue(method, out var list))
            {
                _calls.Add(method, list = new List<IInvocationOperation>());
            }

            list.Add(call);
        }
    }

    /// <summary>Whether the member is declared by this type (so every assignment to it was seen, unless others can write it).</summary>
    public bool IsOwn(ISymbol member) => SymbolEqualityComparer.Default.Equals(member.ContainingType?.OriginalDefinition, _type);

    /// <summary>The values given to a member of this type (empty when none).</summary>
    public IReadOnlyList<MemberAssignment> AssignmentsOf(ISymbol member)
    {
        lock (_assignments)
        {
            return _assignments.TryGetValue(member.OriginalDefinition, out var list) ? list.ToArray() : Array.Empty<MemberAssignment>();
        }
    }

    public IReadOnlyList<IInvocationOperation>? CallsOf(IMethodSymbol method)
    {
        lock (_calls)
        {
            return _calls.TryGetValue(method.OriginalDefinition, out var list) ? list.ToArray() : null;
        }
    }
}

internal readonly record struct MemberAssignment(IOperation? Value, bool AtConstruction);
