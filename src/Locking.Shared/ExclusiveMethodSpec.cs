namespace Locking.Declarations;

/// <summary>What an [Exclusive] method returns, which decides how its wrapper awaits and returns.</summary>
internal enum ReturnShape
{
    /// <summary><c>Task</c>.</summary>
    Task,

    /// <summary><c>Task&lt;T&gt;</c>.</summary>
    TaskOfT,

    /// <summary><c>ValueTask</c>.</summary>
    ValueTask,

    /// <summary><c>ValueTask&lt;T&gt;</c>.</summary>
    ValueTaskOfT,

    /// <summary>Synchronous <c>void</c>: the wrapper blocks on the acquire.</summary>
    Void,

    /// <summary>A synchronous result <c>T</c>: the wrapper blocks on the acquire.</summary>
    Value,
}

/// <summary>Which part of the declaration a problem is about, resolved to a location by <see cref="ExclusiveMethodParser.GetLocation"/>.</summary>
internal enum ProblemSite
{
    /// <summary>The method's name identifier.</summary>
    MethodName,

    /// <summary>The key argument of the attribute.</summary>
    KeyArgument,

    /// <summary>The <c>Ttl</c> argument (or the attribute when it is not written).</summary>
    TtlArgument,

    /// <summary>The <c>Wait</c> argument.</summary>
    WaitArgument,

    /// <summary>The <c>Work</c> argument.</summary>
    WorkArgument,

    /// <summary>The <c>Store</c> argument (or the method name when it is not written).</summary>
    StoreArgument,
}

/// <summary>
/// One thing wrong (or dubious) with a declaration. Value-equatable and location-free, so the generator can
/// cache it; analyzers turn <see cref="Site"/> into a location.
/// </summary>
/// <param name="Id">The diagnostic id ("LOCK005").</param>
/// <param name="Site">Where the diagnostic goes.</param>
/// <param name="MessageArgs">The arguments of the descriptor's message format, in order.</param>
/// <param name="Reason">For LOCK006, the machine-readable reason (diagnostic property "Reason"); otherwise empty.</param>
internal sealed record DeclarationProblem(string Id, ProblemSite Site, EquatableArray<string> MessageArgs, string Reason = "")
{
    /// <summary>Whether the problem makes the declaration impossible to wrap (LOCK005-LOCK009); warnings do not.</summary>
    public bool IsError => Id is DiagnosticIds.InvalidKeyTemplate or DiagnosticIds.InvalidTarget or DiagnosticIds.MissingCoreMethod
        or DiagnosticIds.ProviderNotFound or DiagnosticIds.InvalidDuration;

    /// <summary>The message with its arguments, for the exception an invalid wrapper throws.</summary>
    public string Describe()
    {
        var args = new string[MessageArgs.Count];
        for (var i = 0; i < args.Length; i++)
        {
            args[i] = MessageArgs[i];
        }

        var format = Id switch
        {
            DiagnosticIds.InvalidKeyTemplate => "the key template '{0}' is invalid: {1}",
            DiagnosticIds.InvalidTarget => "[Exclusive] method '{0}' is invalid: {1}",
            DiagnosticIds.MissingCoreMethod => "[Exclusive] method '{0}' needs a body method '{1}' with parameters ({2}){3}",
            DiagnosticIds.ProviderNotFound => "[Exclusive] method '{0}' {1}",
            DiagnosticIds.InvalidDuration => "{0} = \"{1}\" is invalid: {2}",
            _ => string.Join(", ", args),
        };
        return Id + ": " + string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args);
    }
}

/// <summary>The ids of the diagnostics the declaration parser finds (the descriptors live with the analyzers).</summary>
internal static class DiagnosticIds
{
    public const string TtlShorterThanWork = "LOCK003";
    public const string InvalidKeyTemplate = "LOCK005";
    public const string InvalidTarget = "LOCK006";
    public const string MissingCoreMethod = "LOCK007";
    public const string ProviderNotFound = "LOCK008";
    public const string InvalidDuration = "LOCK009";
    public const string UnstableKeyPlaceholder = "LOCK011";
}

/// <summary>The reasons of LOCK006 (diagnostic property "Reason"), read by the code fixes.</summary>
internal static class InvalidTargetReasons
{
    public const string NotPartial = nameof(NotPartial);
    public const string TypeNotPartial = nameof(TypeNotPartial);
    public const string AsyncVoid = nameof(AsyncVoid);
    public const string Iterator = nameof(Iterator);
    public const string RefParameter = nameof(RefParameter);
    public const string RefStructParameter = nameof(RefStructParameter);
    public const string RefReturn = nameof(RefReturn);
    public const string AsyncEnumerable = nameof(AsyncEnumerable);
    public const string AlreadyImplemented = nameof(AlreadyImplemented);
}

/// <summary>A type that contains the method, outermost first, as the generated file re-declares it.</summary>
/// <param name="Keyword">"class", "struct", "record", "record struct" or "interface".</param>
/// <param name="Name">The name with its type parameter list ("Cache&lt;TKey, TValue&gt;").</param>
internal sealed record ContainingTypeSpec(string Keyword, string Name);

/// <summary>A parameter of the [Exclusive] method.</summary>
/// <param name="Name">The name as written in code (a keyword escaped with '@').</param>
/// <param name="Type">The fully qualified type, with nullable annotations.</param>
/// <param name="Modifiers">"params", "this", "scoped", "ref", ... as the declaration needs them repeated, with a trailing space; or empty.</param>
/// <param name="IsCancellationToken">Whether this is the caller's CancellationToken (the first of that type).</param>
internal sealed record ParameterSpec(string Name, string Type, string Modifiers, bool IsCancellationToken);

/// <summary>One step of a placeholder path: the parameter, then each member.</summary>
/// <param name="Name">The parameter or member name as written in code.</param>
/// <param name="CanBeNull">Whether the value can be null (a reference type, a Nullable&lt;T&gt; or an unconstrained type parameter).</param>
internal sealed record PlaceholderStep(string Name, bool CanBeNull);

/// <summary>How the final value of a placeholder is turned into text.</summary>
internal enum PlaceholderFormat
{
    /// <summary>A string, used as is.</summary>
    String,

    /// <summary>Any other value, formatted with the invariant culture.</summary>
    Formatted,

    /// <summary>A Nullable&lt;T&gt; checked for null, then its value formatted with the invariant culture.</summary>
    NullableValue,
}

/// <summary>A resolved placeholder of the key.</summary>
/// <param name="Path">The path as written ("order.Id").</param>
/// <param name="ParameterName">The parameter the path starts at (named by a null check).</param>
/// <param name="Steps">The parameter, then each member accessed.</param>
/// <param name="Format">How the value becomes text.</param>
/// <param name="TypeDisplay">The value's type as a user reads it, when it has no stable text form (LOCK011); otherwise empty.</param>
internal sealed record PlaceholderSpec(string Path, string ParameterName, EquatableArray<PlaceholderStep> Steps, PlaceholderFormat Format, string TypeDisplay);

/// <summary>One piece of the key as the wrapper builds it.</summary>
/// <param name="Literal">The literal text, when <paramref name="Placeholder"/> is null.</param>
/// <param name="Placeholder">The resolved placeholder, or null for literal text.</param>
internal sealed record KeyPartSpec(string Literal, PlaceholderSpec? Placeholder);

/// <summary>Where the wrapper finds its ILockProvider.</summary>
internal enum ProviderKind
{
    /// <summary>A field of the type.</summary>
    Field,

    /// <summary>A property of the type.</summary>
    Property,

    /// <summary>A primary-constructor parameter of the type.</summary>
    PrimaryConstructorParameter,

    /// <summary>A parameter of the method.</summary>
    MethodParameter,
}

/// <summary>The resolved provider.</summary>
/// <param name="Kind">What kind of member it is.</param>
/// <param name="Name">Its name.</param>
/// <param name="Access">The C# expression the wrapper reads it with ("this._locks", "locks").</param>
internal sealed record ProviderSpec(ProviderKind Kind, string Name, string Access);

/// <summary>What the wrapper passes for one parameter of the Core method.</summary>
internal enum CoreArgumentKind
{
    /// <summary>The wrapper's parameter at <see cref="CoreArgumentSpec.ParameterIndex"/>.</summary>
    Parameter,

    /// <summary>The held LockLease.</summary>
    Lease,

    /// <summary>The body's CancellationToken: cancelled by the caller or by the loss of the lease.</summary>
    BodyToken,
}

/// <summary>One argument of the call to the Core method.</summary>
/// <param name="Kind">What is passed.</param>
/// <param name="ParameterIndex">For <see cref="CoreArgumentKind.Parameter"/>, the index of the wrapper's parameter; otherwise -1.</param>
internal sealed record CoreArgumentSpec(CoreArgumentKind Kind, int ParameterIndex);

/// <summary>
/// Everything about one [Exclusive] method, as plain values (no symbols, syntax or compilation): what the
/// generator emits from and what the analyzers report from.
/// </summary>
internal sealed record ExclusiveMethodSpec
{
    /// <summary>The namespace of the containing type, or empty for the global namespace.</summary>
    public string Namespace { get; init; } = "";

    /// <summary>The containing types, outermost first.</summary>
    public EquatableArray<ContainingTypeSpec> ContainingTypes { get; init; } = EquatableArray<ContainingTypeSpec>.Empty;

    /// <summary>The containing type's fully qualified metadata name ("Shop.Outer+Inner`1"): the generated file's identity.</summary>
    public string TypeMetadataName { get; init; } = "";

    /// <summary>The method name.</summary>
    public string Name { get; init; } = "";

    /// <summary>The method name as written in code (a keyword escaped with '@').</summary>
    public string Identifier { get; init; } = "";

    /// <summary>The modifiers the implementation repeats ("public static"), without partial or async.</summary>
    public string Modifiers { get; init; } = "";

    /// <summary>Whether the method is static.</summary>
    public bool IsStatic { get; init; }

    /// <summary>The type parameter list ("&lt;T&gt;") or empty.</summary>
    public string TypeParameters { get; init; } = "";

    /// <summary>The constraint clauses (" where T : class") or empty.</summary>
    public string Constraints { get; init; } = "";

    /// <summary>The return type, fully qualified with nullable annotations.</summary>
    public string ReturnType { get; init; } = "";

    /// <summary>How the method returns.</summary>
    public ReturnShape Shape { get; init; }

    /// <summary>The parameters in order.</summary>
    public EquatableArray<ParameterSpec> Parameters { get; init; } = EquatableArray<ParameterSpec>.Empty;

    /// <summary>The key template as written and parsed.</summary>
    public KeyTemplate Key { get; init; } = KeyTemplate.Parse(null);

    /// <summary>The key as the wrapper builds it (resolved placeholders); empty when the template has errors.</summary>
    public EquatableArray<KeyPartSpec> KeyParts { get; init; } = EquatableArray<KeyPartSpec>.Empty;

    /// <summary>The lease Ttl in ticks.</summary>
    public long TtlTicks { get; init; }

    /// <summary>The wait in ticks (<see cref="Durations.InfiniteTicks"/> for infinite).</summary>
    public long WaitTicks { get; init; }

    /// <summary>The declared work in ticks, or null when Work is not given.</summary>
    public long? WorkTicks { get; init; }

    /// <summary>Whether the lease renews itself.</summary>
    public bool Renew { get; init; } = true;

    /// <summary>Whether a busy key skips the body (OnBusy.Skip) rather than throwing.</summary>
    public bool SkipWhenBusy { get; init; }

    /// <summary>The Store name given, or null.</summary>
    public string? Store { get; init; }

    /// <summary>The provider, or null when none could be chosen (LOCK008).</summary>
    public ProviderSpec? Provider { get; init; }

    /// <summary>
    /// The primary-constructor parameters the wrapper reads as its provider (the chosen one; with LOCK008, every
    /// candidate), as code. A wrapper that throws for an invalid declaration still reads them, so the compiler does
    /// not add "CS9113: parameter is unread" to the LOCK diagnostic.
    /// </summary>
    public EquatableArray<string> PrimaryConstructorProviders { get; init; } = EquatableArray<string>.Empty;

    /// <summary>The Core method's name ("ChargeAsyncCore").</summary>
    public string CoreName { get; init; } = "";

    /// <summary>Whether a matching Core method was found.</summary>
    public bool HasCore { get; init; }

    /// <summary>Whether the Core method is static (called without this).</summary>
    public bool CoreIsStatic { get; init; }

    /// <summary>The arguments of the call to the Core method, in its parameter order.</summary>
    public EquatableArray<CoreArgumentSpec> CoreArguments { get; init; } = EquatableArray<CoreArgumentSpec>.Empty;

    /// <summary>Whether the generator can write the implementation part (a partial definition in partial types, not yet implemented).</summary>
    public bool CanImplement { get; init; }

    /// <summary>Everything wrong or dubious, errors and warnings.</summary>
    public EquatableArray<DeclarationProblem> Problems { get; init; } = EquatableArray<DeclarationProblem>.Empty;

    /// <summary>The first error, or null when the declaration can be wrapped.</summary>
    public DeclarationProblem? FirstError
    {
        get
        {
            foreach (var problem in Problems)
            {
                if (problem.IsError)
                {
                    return problem;
                }
            }

            return null;
        }
    }

    /// <summary>Whether the method returns a Task or ValueTask.</summary>
    public bool IsAsync => Shape is ReturnShape.Task or ReturnShape.TaskOfT or ReturnShape.ValueTask or ReturnShape.ValueTaskOfT;

    /// <summary>Whether the method returns a result.</summary>
    public bool HasResult => Shape is ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT or ReturnShape.Value;
}
