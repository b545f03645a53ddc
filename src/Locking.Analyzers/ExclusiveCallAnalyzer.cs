using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Locking.Analyzers;

/// <summary>
/// Calls around [Exclusive] methods. LOCK010: a <c>{Name}Core</c> body called (or taken as a delegate) anywhere
/// but its wrapper or itself, which runs the body without the lock. LOCK012: an exclusive body that calls an
/// [Exclusive] method whose key, with the arguments passed, is its own key: the nested acquire can never succeed.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ExclusiveCallAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.CoreCalledDirectly, DiagnosticDescriptors.SameKeyReentrancy);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        // The only generated caller of a Core method is its wrapper, which is allowed: user code is enough.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            if (ExclusiveMethodIndex.TryCreate(start.Compilation) is not { } index)
            {
                return;
            }

            start.RegisterOperationAction(c => AnalyzeCall(c, index, ((IInvocationOperation)c.Operation).TargetMethod), OperationKind.Invocation);
            start.RegisterOperationAction(c => AnalyzeCall(c, index, ((IMethodReferenceOperation)c.Operation).Method), OperationKind.MethodReference);
        });
    }

    private static void AnalyzeCall(OperationAnalysisContext context, ExclusiveMethodIndex index, IMethodSymbol target)
    {
        if (context.ContainingSymbol is not IMethodSymbol caller)
        {
            return;
        }

        // LOCK010: the body of an [Exclusive] method, reached without its lock.
        if (index.OwnerOfCore(target, context.CancellationToken) is { } owner)
        {
            var from = ExclusiveMethodIndex.Normalize(caller);
            if (!SymbolEqualityComparer.Default.Equals(from, owner.Method) && !SymbolEqualityComparer.Default.Equals(from, owner.Core))
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.CoreCalledDirectly, context.Operation.Syntax.GetLocation(),
                    target.Name, owner.Method.Name));
            }

            return;
        }

        // LOCK012: inside an exclusive body, a call that takes the body's own key again.
        if (context.Operation is IInvocationOperation invocation
            && index.AsExclusive(target, context.CancellationToken) is { } callee
            && index.OwnerOfCore(caller, context.CancellationToken) is { Core: { } core } holder
            && ExclusiveKeys.HeldKey(holder, core) is { } held
            && ExclusiveKeys.KeyAtCall(callee, invocation, core) == held)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.SameKeyReentrancy, invocation.Syntax.GetLocation(),
                holder.Method.Name, callee.Method.Name, holder.Spec.Key.Text));
        }
    }
}

/// <summary>
/// Keys as the call rules compare them: literal text, with each placeholder written as the body's parameter
/// it comes from ("orders/{#0.Id}"), so that a key built from the same values compares equal.
/// </summary>
internal static class ExclusiveKeys
{
    /// <summary>The key the body <paramref name="core"/> runs under, in terms of its own parameters; null when unknown.</summary>
    public static string? HeldKey(ExclusiveMethod holder, IMethodSymbol core)
    {
        if (holder.Spec.Key.Error is not null)
        {
            return null;
        }

        var key = new StringBuilder();
        foreach (var segment in holder.Spec.Key.Segments)
        {
            if (!segment.IsPlaceholder)
            {
                AppendLiteral(key, segment.Text);
                continue;
            }

            var parameterIndex = IndexOfParameter(holder.Method, segment.Path[0]);
            var coreIndex = -1;
            for (var i = 0; i < holder.Spec.CoreArguments.Count; i++)
            {
                var argument = holder.Spec.CoreArguments[i];
                if (argument.Kind == Declarations.CoreArgumentKind.Parameter && argument.ParameterIndex == parameterIndex && parameterIndex >= 0)
                {
                    coreIndex = i;
                }
            }

            if (coreIndex < 0 || coreIndex >= core.Parameters.Length)
            {
                return null;
            }

            key.Append("{#").Append(coreIndex.ToString(CultureInfo.InvariantCulture));
            AppendMembers(key, segment.Path, 1);
            key.Append('}');
        }

        return key.ToString();
    }

    /// <summary>The key <paramref name="callee"/> takes for this call, in terms of the parameters of <paramref name="core"/>; null when unknown.</summary>
    public static string? KeyAtCall(ExclusiveMethod callee, IInvocationOperation call, IMethodSymbol core)
    {
        if (callee.Spec.Key.Error is not null)
        {
            return null;
        }

        var key = new StringBuilder();
        foreach (var segment in callee.Spec.Key.Segments)
        {
            if (!segment.IsPlaceholder)
            {
                AppendLiteral(key, segment.Text);
                continue;
            }

            var name = Unescape(segment.Path[0]);
            var argument = call.Arguments.FirstOrDefault(a => a.Parameter?.Name == name);
            if (argument is null)
            {
                return null;
            }

            var value = Unwrap(argument.Value);
            if (segment.Path.Count == 1 && value.ConstantValue is { HasValue: true, Value: { } constant })
            {
                AppendLiteral(key, Convert.ToString(constant, CultureInfo.InvariantCulture) ?? "");
                continue;
            }

            if (PathOf(value, core) is not { } path)
            {
                return null;
            }

            key.Append('{').Append(path);
            AppendMembers(key, segment.Path, 1);
            key.Append('}');
        }

        return key.ToString();
    }

    /// <summary>"#ordinal.Member.Member" for a value read from a parameter of <paramref name="core"/>, else null.</summary>
    private static string? PathOf(IOperation value, IMethodSymbol core)
    {
        switch (value)
        {
            case IParameterReferenceOperation parameter
                when SymbolEqualityComparer.Default.Equals(ExclusiveMethodIndex.Normalize((IMethodSymbol)parameter.Parameter.ContainingSymbol), core):
                return "#" + parameter.Parameter.Ordinal.ToString(CultureInfo.InvariantCulture);
            case IPropertyReferenceOperation { Instance: { } instance, Arguments.Length: 0 } property:
                return PathOf(Unwrap(instance), core) is { } owner ? owner + "." + property.Property.Name : null;
            case IFieldReferenceOperation { Instance: { } instance } field:
                return PathOf(Unwrap(instance), core) is { } holder ? holder + "." + field.Field.Name : null;
            default:
                return null;
        }
    }

    private static IOperation Unwrap(IOperation operation)
    {
        while (operation is IConversionOperation { IsImplicit: true } or IParenthesizedOperation)
        {
            operation = operation is IConversionOperation conversion ? conversion.Operand : ((IParenthesizedOperation)operation).Operand;
        }

        return operation;
    }

    private static int IndexOfParameter(IMethodSymbol method, string name)
    {
        name = Unescape(name);
        for (var i = 0; i < method.Parameters.Length; i++)
        {
            if (method.Parameters[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Unescape(string name) => name.Length > 0 && name[0] == '@' ? name.Substring(1) : name;

    private static void AppendLiteral(StringBuilder key, string text) => key.Append(text.Replace("{", "{{").Replace("}", "}}"));

    private static void AppendMembers(StringBuilder key, Declarations.EquatableArray<string> path, int from)
    {
        for (var i = from; i < path.Count; i++)
        {
            key.Append('.').Append(Unescape(path[i]));
        }
    }
}
