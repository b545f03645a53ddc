using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>What a StackExchange.Redis call does to a key, as far as the lock rules care.</summary>
internal enum RedisCallKind
{
    /// <summary>Takes a lock: LockTake, SET NX (StringSet with When.NotExists), a SET NX script.</summary>
    Acquire,

    /// <summary>StringSet without a condition.</summary>
    PlainSet,

    /// <summary>StringIncrement whose result is read: "the first one to get 1 holds it".</summary>
    Increment,

    /// <summary>HashSet with When.NotExists (HSETNX).</summary>
    HashSetNotExists,

    /// <summary>Compares the owner, then releases or extends: LockRelease, LockExtend, ValueCondition.Equal, a compare-and-delete script, a transaction conditioned on the owner.</summary>
    OwnerCheck,

    /// <summary>Deletes the key whoever holds it: KeyDelete, StringDelete, GETDEL, DEL/UNLINK, an expiry that has passed, a DEL script.</summary>
    Delete,

    /// <summary>Gives the key an expiry.</summary>
    Expire,

    /// <summary>Removes the key's expiry: KeyPersist, KeyExpire with no expiry.</summary>
    Persist,

    /// <summary>Reads the key's value (StringGet).</summary>
    Read,

    /// <summary>ITransaction.AddCondition(Condition.StringEqual(key, value)): the transaction runs only while the key holds the value.</summary>
    OwnerCondition,
}

/// <summary>One recognized call on one key.</summary>
internal sealed class RedisCall
{
    public RedisCall(RedisCallKind kind, IInvocationOperation invocation, IOperation key, RedisKeyIdentity identity, ISymbol member)
    {
        Kind = kind;
        Invocation = invocation;
        KeyOperation = key;
        Key = identity;
        Member = member;
        Site = invocation;
        Name = invocation.TargetMethod.Name;
    }

    public RedisCallKind Kind { get; set; }

    /// <summary>The call to the database (or to the LuaScript).</summary>
    public IInvocationOperation Invocation { get; }

    /// <summary>Where a diagnostic about this call goes: the call, or the Condition.StringEqual of a transaction.</summary>
    public IOperation Site { get; set; }

    public IOperation KeyOperation { get; }

    public RedisKeyIdentity Key { get; }

    /// <summary>The member (method, accessor, constructor) the call is in.</summary>
    public ISymbol Member { get; }

    /// <summary>The name the messages use for the call ("KeyDelete", "KeyExpire").</summary>
    public string Name { get; set; }

    /// <summary>Acquire, owner check, condition: the owner value passed.</summary>
    public IOperation? Owner { get; set; }

    /// <summary>Acquire, set, increment: whether the key gets its expiry in the same command.</summary>
    public bool HasExpiry { get; set; }

    /// <summary>Whether the caller reads the result (a SET NX whose result nobody reads is a cache "add", not a lock).</summary>
    public bool ResultUsed { get; set; }

    /// <summary>Owner check: a release (true) or an extend (false).</summary>
    public bool IsRelease { get; set; }

    /// <summary>Delete: how it deletes, when not by its name ("KeyExpire with an expiry that has passed").</summary>
    public string? DeleteNote { get; set; }

    /// <summary>Calls on a transaction (or batch) object: that object, so conditions can be paired with their commands.</summary>
    public ISymbol? Receiver { get; set; }

    /// <summary>An acquire that is a lock whether or not its result is read (LockTake, a SET NX script or command).</summary>
    public bool IsLockByItself { get; set; }

    /// <summary>Whether this call takes a lock: its key is a lock key.</summary>
    public bool TakesLock => Kind is RedisCallKind.Acquire or RedisCallKind.HashSetNotExists && (ResultUsed || IsLockByItself) && !Key.HoldsRandom;

    public bool SameMember(RedisCall other) => SymbolEqualityComparer.Default.Equals(Member, other.Member) && Invocation.Syntax.SyntaxTree == other.Invocation.Syntax.SyntaxTree;

    public bool IsBefore(RedisCall other) => SameMember(other) && Invocation.Syntax.SpanStart < other.Invocation.Syntax.SpanStart;
}

/// <summary>Turns StackExchange.Redis invocations into <see cref="RedisCall"/>s.</summary>
internal static class RedisCallReader
{
    public static void Read(IInvocationOperation invocation, ISymbol member, RedisSymbols symbols, LocalValues locals, List<RedisCall> calls)
    {
        var method = invocation.TargetMethod;
        var name = method.Name.EndsWith("Async", StringComparison.Ordinal) ? method.Name.Substring(0, method.Name.Length - 5) : method.Name;
        if (symbols.IsLuaScriptMethod(method))
        {
            if (name == "Evaluate")
            {
                ReadScript(invocation, member, symbols, locals, calls, invocation.Instance, Argument(invocation, "ps") ?? Argument(invocation, "parameters"), null, null);
            }

            return;
        }

        if (!symbols.IsDatabaseMethod(method))
        {
            return;
        }

        RedisCall New(RedisCallKind kind, IOperation key) => new(kind, invocation, key, RedisKeyIdentity.Of(key, locals), member)
        {
            Receiver = ReceiverOf(invocation),
            ResultUsed = IsResultUsed(invocation),
        };

        var keyArgument = Argument(invocation, "key");
        switch (name)
        {
            case "LockTake" when keyArgument is not null:
                calls.Add(New(RedisCallKind.Acquire, keyArgument).With(c => { c.Owner = Argument(invocation, "value"); c.HasExpiry = true; c.IsLockByItself = true; }));
                break;
            case "LockRelease" or "LockExtend" when keyArgument is not null:
                calls.Add(New(RedisCallKind.OwnerCheck, keyArgument).With(c => { c.Owner = Argument(invocation, "value"); c.IsRelease = name == "LockRelease"; }));
                break;
            case "StringSet" when keyArgument is not null:
                var when = Argument(invocation, "when");
                if (symbols.IsNotExists(when))
                {
                    calls.Add(New(RedisCallKind.Acquire, keyArgument).With(c => { c.Owner = Argument(invocation, "value"); c.HasExpiry = symbols.HasExpiry(Argument(invocation, "expiry")); }));
                }
                else if (symbols.ValueConditionOperand(when) is { } compared)
                {
                    calls.Add(New(RedisCallKind.OwnerCheck, keyArgument).With(c => { c.Owner = compared; c.IsRelease = false; }));
                }
                else if (symbols.IsAlways(when) || symbols.IsExists(when))
                {
                    var keepTtl = Argument(invocation, "keepTtl")?.ConstantValue is { HasValue: true, Value: true };
                    calls.Add(New(RedisCallKind.PlainSet, keyArgument).With(c => c.HasExpiry = keepTtl || symbols.HasExpiry(Argument(invocation, "expiry"))));
                }

                break;
            case "StringIncrement" when keyArgument is not null:
                calls.Add(New(RedisCallKind.Increment, keyArgument).With(c => c.HasExpiry = symbols.HasExpiry(Argument(invocation, "expiry"))));
                break;
            case "HashSet" when keyArgument is not null && symbols.IsNotExists(Argument(invocation, "when")):
                calls.Add(New(RedisCallKind.HashSetNotExists, keyArgument).With(c => c.Owner = Argument(invocation, "value")));
                break;
            case "KeyDelete":
                foreach (var deleted in KeysOf(keyArgument ?? Argument(invocation, "keys")))
                {
                    calls.Add(New(RedisCallKind.Delete, deleted));
                }

                break;
            case "StringDelete" when keyArgument is not null:
                var condition = Argument(invocation, "when");
                if (symbols.IsAlways(condition))
                {
                    calls.Add(New(RedisCallKind.Delete, keyArgument));
                }
                else if (symbols.ValueConditionOperand(condition) is { } owner)
                {
                    calls.Add(New(RedisCallKind.OwnerCheck, keyArgument).With(c => { c.Owner = owner; c.IsRelease = true; }));
                }

                break;
            case "StringGet" when keyArgument is not null:
                calls.Add(New(RedisCallKind.Read, keyArgument));
                break;
            case "StringGetDelete" when keyArgument is not null:
                calls.Add(New(RedisCallKind.Delete, keyArgument));
                break;
            case "KeyExpire" when keyArgument is not null:
                var expiry = Argument(invocation, "expiry");
                if (expiry is null || symbols.IsNoExpiry(expiry))
                {
                    calls.Add(New(RedisCallKind.Persist, keyArgument));
                }
                else if (RedisSymbols.IsPast(expiry))
                {
                    calls.Add(New(RedisCallKind.Delete, keyArgument).With(c => c.DeleteNote = "with an expiry that has already passed"));
                }
                else
                {
                    calls.Add(New(RedisCallKind.Expire, keyArgument));
                }

                break;
            case "KeyPersist" when keyArgument is not null:
                calls.Add(New(RedisCallKind.Persist, keyArgument));
                break;
            case "HashFieldExpire" when keyArgument is not null:
                calls.Add(New(RedisCallKind.Expire, keyArgument));
                break;
            case "AddCondition":
                if (Argument(invocation, "condition") is { } conditionArgument
                    && RedisKeyIdentity.Unwrap(conditionArgument) is IInvocationOperation { TargetMethod.Name: "StringEqual" } stringEqual
                    && symbols.IsCondition(stringEqual.TargetMethod.ContainingType)
                    && Argument(stringEqual, "key") is { } conditionKey)
                {
                    calls.Add(New(RedisCallKind.OwnerCondition, conditionKey).With(c => { c.Owner = Argument(stringEqual, "value"); c.Site = stringEqual; }));
                }

                break;
            case "ScriptEvaluate":
                ReadScript(invocation, member, symbols, locals, calls, Argument(invocation, "script"),
                    Argument(invocation, "parameters"), Argument(invocation, "keys"), Argument(invocation, "values"));
                break;
            case "Execute":
                ReadCommand(invocation, member, locals, calls, New);
                break;
        }
    }

    private static void ReadCommand(IInvocationOperation invocation, ISymbol member, LocalValues locals, List<RedisCall> calls, Func<RedisCallKind, IOperation, RedisCall> create)
    {
        if (Argument(invocation, "command")?.ConstantValue is not { HasValue: true, Value: string command })
        {
            return;
        }

        var args = ElementsOf(Argument(invocation, "args"));
        bool HasOption(params string[] options) => args.Skip(2).Any(a => a.ConstantValue is { HasValue: true, Value: string s } && options.Any(o => s.Equals(o, StringComparison.OrdinalIgnoreCase)));
        switch (command.ToUpperInvariant())
        {
            case "DEL" or "UNLINK":
                foreach (var deleted in args)
                {
                    calls.Add(create(RedisCallKind.Delete, deleted));
                }

                break;
            case "GETDEL" when args.Count >= 1:
                calls.Add(create(RedisCallKind.Delete, args[0]));
                break;
            case "SET" when args.Count >= 2 && HasOption("NX"):
                calls.Add(create(RedisCallKind.Acquire, args[0]).With(c => { c.Owner = args[1]; c.HasExpiry = HasOption("PX", "EX", "PXAT", "EXAT"); c.IsLockByItself = true; }));
                break;
            case "EXPIRE" or "PEXPIRE" when args.Count >= 2:
                var isPast = RedisKeyIdentity.Unwrap(args[1]).ConstantValue is { HasValue: true, Value: var value } && Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) <= 0;
                calls.Add(create(isPast ? RedisCallKind.Delete : RedisCallKind.Expire, args[0]).With(c => c.DeleteNote = isPast ? "with an expiry of zero" : null));
                break;
            case "PERSIST" when args.Count >= 1:
                calls.Add(create(RedisCallKind.Persist, args[0]));
                break;
        }
    }

    private static void ReadScript(IInvocationOperation invocation, ISymbol member, RedisSymbols symbols, LocalValues locals, List<RedisCall> calls,
        IOperation? script, IOperation? parameters, IOperation? keys, IOperation? values)
    {
        if (script is null || ScriptText(script, locals, 3) is not { } text)
        {
            return;
        }

        var shape = LuaScriptShape.Of(text);
        if (shape.Kind == LuaScriptKind.Other)
        {
            return;
        }

        var keyList = ElementsOf(keys);
        var valueList = ElementsOf(values);
        IOperation? Pick(ScriptReference reference, List<IOperation> list)
            => reference.Index > 0 ? (reference.Index <= list.Count ? list[reference.Index - 1] : null)
                : reference.Name is { } member ? Member(parameters, member) : null;

        if (Pick(shape.Key, keyList) is not { } key)
        {
            return;
        }

        var call = new RedisCall(RedisCallKind.Delete, invocation, key, RedisKeyIdentity.Of(key, locals), member)
        {
            ResultUsed = IsResultUsed(invocation),
            Owner = shape.Owner.IsKnown ? Pick(shape.Owner, shape.Owner.IsKey ? keyList : valueList) : null,
        };
        switch (shape.Kind)
        {
            case LuaScriptKind.CompareAndDelete or LuaScriptKind.CompareAndExpire:
                if (call.Owner is null)
                {
                    return;
                }

                call.Kind = RedisCallKind.OwnerCheck;
                call.IsRelease = shape.Kind == LuaScriptKind.CompareAndDelete;
                break;
            case LuaScriptKind.SetNotExists:
                call.Kind = RedisCallKind.Acquire;
                call.HasExpiry = shape.HasExpiry;
                call.IsLockByItself = true;
                break;
            default:
                call.DeleteNote = "(a script that deletes without comparing the owner)";
                break;
        }

        calls.Add(call);
    }

    /// <summary>The value of the member <paramref name="name"/> of an anonymous object passed as LuaScript parameters.</summary>
    private static IOperation? Member(IOperation? parameters, string name)
    {
        if (parameters is null || RedisKeyIdentity.Unwrap(parameters) is not IAnonymousObjectCreationOperation creation)
        {
            return null;
        }

        foreach (var initializer in creation.Initializers)
        {
            if (initializer is ISimpleAssignmentOperation { Target: IPropertyReferenceOperation { Property.Name: var property }, Value: var value } && property == name)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The text of a script argument: a constant, a readonly literal field, a LuaScript.Prepare of either, through locals.</summary>
    private static string? ScriptText(IOperation script, LocalValues locals, int hops)
    {
        var value = RedisKeyIdentity.Unwrap(script);
        if (value.ConstantValue is { HasValue: true, Value: string text })
        {
            return text;
        }

        if (hops <= 0)
        {
            return null;
        }

        switch (value)
        {
            case ILocalReferenceOperation local when locals.SingleValue(local) is { } initializer:
                return ScriptText(initializer, locals, hops - 1);
            case IFieldReferenceOperation { Field: var field }:
                return RedisKeyIdentity.ReadOnlyLiteral(field) ?? FieldScript(field, value.SemanticModel, locals, hops);
            case IPropertyReferenceOperation { Property: var property }:
                return FieldScript(property, value.SemanticModel, locals, hops);
            case IInvocationOperation { TargetMethod.Name: "Prepare" } prepare when prepare.Arguments.Length > 0:
                return ScriptText(prepare.Arguments[0].Value, locals, hops - 1);
            case IInvocationOperation { TargetMethod.Name: "Load" or "LoadAsync", Instance: { } prepared }:
                return ScriptText(prepared, locals, hops - 1);
            case IAwaitOperation awaited:
                return ScriptText(awaited.Operation, locals, hops - 1);
            default:
                return null;
        }
    }

    /// <summary>A script held by a field or property initialized in the same file (LuaScript.Prepare(...)).</summary>
    private static string? FieldScript(ISymbol member, SemanticModel? model, LocalValues locals, int hops)
    {
        if (model is null || member.DeclaringSyntaxReferences.Length != 1 || member.DeclaringSyntaxReferences[0].SyntaxTree != model.SyntaxTree)
        {
            return null;
        }

        var initializer = member.DeclaringSyntaxReferences[0].GetSyntax() switch
        {
            Microsoft.CodeAnalysis.CSharp.Syntax.VariableDeclaratorSyntax { Initializer.Value: var v } => v,
            Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax { Initializer.Value: var v } => v,
            Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax { ExpressionBody.Expression: var v } => v,
            _ => null,
        };
        return initializer is not null && model.GetOperation(initializer) is { } operation ? ScriptText(operation, locals, hops - 1) : null;
    }

    private static ISymbol? ReceiverOf(IInvocationOperation invocation) => invocation.Instance is { } instance
        ? RedisKeyIdentity.Unwrap(instance) switch
        {
            ILocalReferenceOperation local => local.Local,
            IFieldReferenceOperation field => field.Field,
            IParameterReferenceOperation parameter => parameter.Parameter,
            _ => null,
        }
        : null;

    internal static bool IsResultUsed(IOperation invocation)
    {
        var current = invocation;
        while (current.Parent is IAwaitOperation or IConversionOperation or IParenthesizedOperation
               || current.Parent is IInvocationOperation { TargetMethod.Name: "ConfigureAwait" })
        {
            current = current.Parent;
        }

        return current.Parent is not (IExpressionStatementOperation or ISimpleAssignmentOperation { Target: IDiscardOperation });
    }

    internal static IOperation? Argument(IInvocationOperation invocation, string parameter)
        => invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == parameter) is { ArgumentKind: not ArgumentKind.DefaultValue } argument
            ? argument.Value
            : null;

    /// <summary>The keys of a key argument: itself, or the elements of an array written in place.</summary>
    private static IEnumerable<IOperation> KeysOf(IOperation? keys)
    {
        if (keys is null)
        {
            return Enumerable.Empty<IOperation>();
        }

        var unwrapped = RedisKeyIdentity.Unwrap(keys);
        return unwrapped is IArrayCreationOperation or ICollectionExpressionOperation ? ElementsOf(keys)
            : unwrapped.Type is IArrayTypeSymbol ? Enumerable.Empty<IOperation>()
            : new[] { keys };
    }

    /// <summary>The elements of an array or params argument written in place.</summary>
    private static List<IOperation> ElementsOf(IOperation? array)
    {
        if (array is null)
        {
            return new List<IOperation>();
        }

        return RedisKeyIdentity.Unwrap(array) switch
        {
            IArrayCreationOperation { Initializer: { } initializer } => initializer.ElementValues.ToList(),
            ICollectionExpressionOperation collection => collection.Elements.ToList(),
            _ => new List<IOperation>(),
        };
    }

    private static RedisCall With(this RedisCall call, Action<RedisCall> set)
    {
        set(call);
        return call;
    }
}
