using System.Globalization;

namespace Locking.Sample;

/// <summary>The sample's command line: <c>[--store orleans|redis] [--redis host:port] [--workers N] [--duration 3s] [--verbose]</c>.</summary>
public sealed record SampleOptions
{
    public const string Usage = """
        usage: dotnet run --project samples/Locking.Sample -- [options]
          --store orleans|redis   where the leases live (default orleans: an in-process silo, nothing to install)
          --redis HOST:PORT       the Redis server for --store redis (default localhost:6379)
          --workers N             workers competing for the account (default 10)
          --duration D            how long the workers keep depositing: 500ms, 3s, 1m (default 2s)
          --verbose               also print the logs (Orleans, the host, the lock library) next to the story
        """;

    public string Store { get; init; } = "orleans";

    public string Redis { get; init; } = "localhost:6379";

    public int Workers { get; init; } = 10;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(2);

    public bool Verbose { get; init; }

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public static SampleOptions Parse(IReadOnlyList<string> args)
    {
        var options = new SampleOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            options = name switch
            {
                "--store" => options with { Store = ParseStore(Value()) },
                "--redis" => options with { Redis = Value() },
                "--workers" => options with { Workers = ParseWorkers(Value()) },
                "--duration" => options with { Duration = ParseDuration(Value()) },
                "--verbose" => options with { Verbose = true },
                _ => throw new ArgumentException($"Unknown option '{name}'."),
            };
        }

        return options;
    }

    private static string ParseStore(string value) => value.ToLowerInvariant() switch
    {
        "orleans" or "redis" => value.ToLowerInvariant(),
        _ => throw new ArgumentException($"--store must be 'orleans' or 'redis'; it was '{value}'."),
    };

    private static int ParseWorkers(string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var workers) && workers is >= 1 and <= 1000
            ? workers
            : throw new ArgumentException($"--workers must be a whole number from 1 to 1000; it was '{value}'.");

    private static TimeSpan ParseDuration(string value)
    {
        (string Suffix, Func<double, TimeSpan> Make)[] units = [("ms", TimeSpan.FromMilliseconds), ("s", TimeSpan.FromSeconds), ("m", TimeSpan.FromMinutes)];
        foreach (var (suffix, make) in units)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(value[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount)
                && amount > 0 && amount <= 600)
            {
                return make(amount);
            }
        }

        throw new ArgumentException($"--duration must be a positive duration such as 500ms, 3s or 1m (at most 10m); it was '{value}'.");
    }
}
