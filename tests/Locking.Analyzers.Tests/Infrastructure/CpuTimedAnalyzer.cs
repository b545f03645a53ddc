using System.Collections.Immutable;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Locking.Analyzers.Tests.Infrastructure;

/// <summary>
/// Runs an analyzer and adds up the CPU time of the thread inside each of its callbacks. The driver's own
/// telemetry measures wall time in the callbacks, which on a busy machine mostly counts the time other processes
/// held the core; thread CPU time does not. Covers the registrations Locking's analyzers make (compilation start
/// and end, symbol, symbol start and end, operation); anything else throws, so a new kind is not silently missed.
/// </summary>
internal sealed class CpuTimedAnalyzer(DiagnosticAnalyzer inner) : DiagnosticAnalyzer
{
    private long _ticks;

    public DiagnosticAnalyzer Inner { get; } = inner;

    /// <summary>The CPU time spent in the analyzer's callbacks so far.</summary>
    public TimeSpan CpuTime => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Inner.SupportedDiagnostics;

    public override void Initialize(AnalysisContext context) => Timed(() => Inner.Initialize(new TimedAnalysisContext(context, this)));

    private void Timed(Action action)
    {
        var start = ThreadCpu.Now();
        try
        {
            action();
        }
        finally
        {
            Interlocked.Add(ref _ticks, (ThreadCpu.Now() - start).Ticks);
        }
    }

    private Action<T> Timed<T>(Action<T> action) => argument => Timed(() => action(argument));

    private sealed class TimedAnalysisContext(AnalysisContext inner, CpuTimedAnalyzer owner) : AnalysisContext
    {
        public override void EnableConcurrentExecution() => inner.EnableConcurrentExecution();

        public override void ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags analysisMode) => inner.ConfigureGeneratedCodeAnalysis(analysisMode);

        public override void RegisterCompilationStartAction(Action<CompilationStartAnalysisContext> action)
            => inner.RegisterCompilationStartAction(owner.Timed<CompilationStartAnalysisContext>(c => action(new TimedCompilationStartContext(c, owner))));

        public override void RegisterCompilationAction(Action<CompilationAnalysisContext> action) => inner.RegisterCompilationAction(owner.Timed(action));

        public override void RegisterSymbolAction(Action<SymbolAnalysisContext> action, ImmutableArray<SymbolKind> symbolKinds)
            => inner.RegisterSymbolAction(owner.Timed(action), symbolKinds);

        public override void RegisterSymbolStartAction(Action<SymbolStartAnalysisContext> action, SymbolKind symbolKind)
            => inner.RegisterSymbolStartAction(owner.Timed<SymbolStartAnalysisContext>(c => action(new TimedSymbolStartContext(c, owner))), symbolKind);

        public override void RegisterOperationAction(Action<OperationAnalysisContext> action, ImmutableArray<OperationKind> operationKinds)
            => inner.RegisterOperationAction(owner.Timed(action), operationKinds);

        public override void RegisterSemanticModelAction(Action<SemanticModelAnalysisContext> action) => throw Unsupported();

        public override void RegisterCodeBlockStartAction<TLanguageKindEnum>(Action<CodeBlockStartAnalysisContext<TLanguageKindEnum>> action) => throw Unsupported();

        public override void RegisterCodeBlockAction(Action<CodeBlockAnalysisContext> action) => throw Unsupported();

        public override void RegisterSyntaxTreeAction(Action<SyntaxTreeAnalysisContext> action) => throw Unsupported();

        public override void RegisterSyntaxNodeAction<TLanguageKindEnum>(Action<SyntaxNodeAnalysisContext> action, ImmutableArray<TLanguageKindEnum> syntaxKinds) => throw Unsupported();
    }

    private sealed class TimedCompilationStartContext(CompilationStartAnalysisContext inner, CpuTimedAnalyzer owner)
        : CompilationStartAnalysisContext(inner.Compilation, inner.Options, inner.CancellationToken)
    {
        public override void RegisterCompilationEndAction(Action<CompilationAnalysisContext> action) => inner.RegisterCompilationEndAction(owner.Timed(action));

        public override void RegisterSymbolAction(Action<SymbolAnalysisContext> action, ImmutableArray<SymbolKind> symbolKinds)
            => inner.RegisterSymbolAction(owner.Timed(action), symbolKinds);

        public override void RegisterSymbolStartAction(Action<SymbolStartAnalysisContext> action, SymbolKind symbolKind)
            => inner.RegisterSymbolStartAction(owner.Timed<SymbolStartAnalysisContext>(c => action(new TimedSymbolStartContext(c, owner))), symbolKind);

        public override void RegisterOperationAction(Action<OperationAnalysisContext> action, ImmutableArray<OperationKind> operationKinds)
            => inner.RegisterOperationAction(owner.Timed(action), operationKinds);

        public override void RegisterSemanticModelAction(Action<SemanticModelAnalysisContext> action) => throw Unsupported();

        public override void RegisterCodeBlockStartAction<TLanguageKindEnum>(Action<CodeBlockStartAnalysisContext<TLanguageKindEnum>> action) => throw Unsupported();

        public override void RegisterCodeBlockAction(Action<CodeBlockAnalysisContext> action) => throw Unsupported();

        public override void RegisterSyntaxTreeAction(Action<SyntaxTreeAnalysisContext> action) => throw Unsupported();

        public override void RegisterSyntaxNodeAction<TLanguageKindEnum>(Action<SyntaxNodeAnalysisContext> action, ImmutableArray<TLanguageKindEnum> syntaxKinds) => throw Unsupported();
    }

    private sealed class TimedSymbolStartContext(SymbolStartAnalysisContext inner, CpuTimedAnalyzer owner)
        : SymbolStartAnalysisContext(inner.Symbol, inner.Compilation, inner.Options, inner.CancellationToken)
    {
        public override void RegisterSymbolEndAction(Action<SymbolAnalysisContext> action) => inner.RegisterSymbolEndAction(owner.Timed(action));

        public override void RegisterOperationAction(Action<OperationAnalysisContext> action, ImmutableArray<OperationKind> operationKinds)
            => inner.RegisterOperationAction(owner.Timed(action), operationKinds);

        public override void RegisterCodeBlockStartAction<TLanguageKindEnum>(Action<CodeBlockStartAnalysisContext<TLanguageKindEnum>> action) => throw Unsupported();

        public override void RegisterCodeBlockAction(Action<CodeBlockAnalysisContext> action) => throw Unsupported();

        public override void RegisterOperationBlockStartAction(Action<OperationBlockStartAnalysisContext> action) => throw Unsupported();

        public override void RegisterOperationBlockAction(Action<OperationBlockAnalysisContext> action) => throw Unsupported();

        public override void RegisterSyntaxNodeAction<TLanguageKindEnum>(Action<SyntaxNodeAnalysisContext> action, ImmutableArray<TLanguageKindEnum> syntaxKinds) => throw Unsupported();
    }

    private static NotSupportedException Unsupported() => new("CpuTimedAnalyzer does not time this kind of registration yet; add it.");

    /// <summary>The calling thread's CPU time (Linux: CLOCK_THREAD_CPUTIME_ID); elsewhere a wall clock, which the report says.</summary>
    public static class ThreadCpu
    {
        private const int ClockThreadCpuTime = 3;

        public static bool IsCpuTime { get; } = OperatingSystem.IsLinux() && TryRead(out _);

        public static TimeSpan Now() => IsCpuTime && TryRead(out var time) ? time : Stopwatch.GetElapsedTime(0);

        private static bool TryRead(out TimeSpan time)
        {
            try
            {
                if (clock_gettime(ClockThreadCpuTime, out var spec) == 0)
                {
                    time = TimeSpan.FromTicks(spec.Seconds * TimeSpan.TicksPerSecond + spec.Nanoseconds / 100);
                    return true;
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
            }

            time = default;
            return false;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeSpec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport("libc", SetLastError = false)]
        private static extern int clock_gettime(int clockId, out TimeSpec time);
    }
}
