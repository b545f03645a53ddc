using System.Globalization;
using Locking.LoadTest.Cases;
using Locking.LoadTest.Libraries;

namespace Locking.LoadTest;

/// <summary>The command line.</summary>
internal sealed record LoadOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    public int Tasks { get; init; } = 64;

    public int Contenders { get; init; } = 8;

    public int Leases { get; init; } = 10_000;

    public int Crowd { get; init; } = 50;

    public TimeSpan HoldTtl { get; init; } = TimeSpan.FromSeconds(3);

    public int Rounds { get; init; } = 1;

    public bool Markdown { get; init; }

    public bool Strict { get; init; }

    public bool AllocationProfile { get; init; }

    public IReadOnlyList<string> Cases { get; init; } = LoadCase.Names;

    public IReadOnlyList<string> Libraries { get; init; } = LibraryKind.All.Select(kind => kind.Name).ToArray();

    public const string Usage = """
        Locking load test: Locking's Redis provider against a raw StackExchange.Redis floor that sends the same
        commands, DistributedLock.Redis, RedLock.net and a fencing-free SET NX reference, on a redis-server it
        starts itself on a free loopback port.

        Options:
          --duration <s>     measured seconds per case and library (default 5)
          --warmup <s>       unmeasured seconds before each measurement (default 1)
          --cases <a,b>      uncontended, uncontended-crowd, parallel, handoff, handoff-conns, hold (default all)
          --libs <a,b>       floor, locking, distributedlock, redlock, setnx (default all)
          --tasks <n>        tasks (and keys) of the parallel case and of the hold ramp (default 64)
          --contenders <n>   contenders on the one key of the handoff cases (default 8)
          --leases <n>       leases held by the hold case (default 10000)
          --crowd <n>        idle instances connected in the uncontended-crowd case, each having waited once (default 50)
          --hold-ttl <s>     lease Ttl in the hold case, so renewals happen within the run (default 3)
          --rounds <n>       rounds, each running every case against every library; ratios are taken within a round
                             and their median judged; each library's median round by ops/s is reported (default 1)
          --markdown         also print the summary as a Markdown table
          --strict           exit with 1 when Locking misses a goal
          --alloc-profile    sample the allocations of each measured window by type (slows the run a little)
        """;

    /// <returns>The options, or null after printing the usage (asked for, or bad arguments).</returns>
    public static LoadOptions? Parse(string[] args, TextWriter error)
    {
        var options = new LoadOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value()
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"Option {name} needs a value.");
                }

                return args[++i];
            }

            try
            {
                options = name switch
                {
                    "--duration" => options with { Duration = Seconds(name, Value()) },
                    "--warmup" => options with { Warmup = Seconds(name, Value(), allowZero: true) },
                    "--tasks" => options with { Tasks = Count(name, Value()) },
                    "--contenders" => options with { Contenders = Count(name, Value(), min: 2) },
                    "--leases" => options with { Leases = Count(name, Value()) },
                    "--crowd" => options with { Crowd = Count(name, Value()) },
                    "--hold-ttl" => options with { HoldTtl = Seconds(name, Value()) },
                    "--rounds" => options with { Rounds = Count(name, Value()) },
                    "--cases" => options with { Cases = Names(name, Value(), LoadCase.Names) },
                    "--libs" => options with { Libraries = Names(name, Value(), LibraryKind.All.Select(kind => kind.Name).ToArray()) },
                    "--markdown" => options with { Markdown = true },
                    "--strict" => options with { Strict = true },
                    "--alloc-profile" => options with { AllocationProfile = true },
                    "--help" or "-h" => null,
                    _ => throw new ArgumentException($"Unknown option '{name}'."),
                };
            }
            catch (ArgumentException ex)
            {
                error.WriteLine(ex.Message);
                error.WriteLine();
                options = null;
            }

            if (options is null)
            {
                error.WriteLine(Usage);
                return null;
            }
        }

        return options;
    }

    private static TimeSpan Seconds(string option, string text, bool allowZero = false)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ||
            seconds < 0 || (seconds == 0 && !allowZero) || seconds > 3600)
        {
            throw new ArgumentException($"Option {option} takes seconds between 0 and 3600; '{text}' is not.");
        }

        return TimeSpan.FromSeconds(seconds);
    }

    private static int Count(string option, string text, int min = 1)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) || count < min || count > 1_000_000)
        {
            throw new ArgumentException($"Option {option} takes a whole number from {min} to 1000000; '{text}' is not.");
        }

        return count;
    }

    private static string[] Names(string option, string text, IReadOnlyList<string> known)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Where(name => !known.Contains(name, StringComparer.OrdinalIgnoreCase)).ToArray();
        if (names.Length == 0 || unknown.Length > 0)
        {
            throw new ArgumentException(
                $"Option {option} takes a comma-separated list of {string.Join(", ", known)}; '{string.Join(", ", unknown)}' is not one.");
        }

        // Keep the canonical order, so the floor still runs before the libraries read against it.
        return known.Where(name => names.Contains(name, StringComparer.OrdinalIgnoreCase)).ToArray();
    }
}
