using System.Globalization;

namespace Locking.Cluster;

/// <summary>The command line: a mode, then --name value pairs.</summary>
internal sealed class Arguments
{
    public const string Usage = """
        usage:
          Locking.Cluster silo   --redis HOST:PORT --silo-port N --gateway-port N [--name NAME]
          Locking.Cluster client --redis HOST:PORT --run ID --client NAME [--workers N] [--operations N] [--skus N]
          Locking.Cluster verify --redis HOST:PORT --run ID
        """;

    private readonly Dictionary<string, string> _values;

    private Arguments(string mode, Dictionary<string, string> values)
    {
        Mode = mode;
        _values = values;
    }

    public string Mode { get; }

    /// <summary>The cluster's Redis: membership table, grain storage, and the sample's protected data.</summary>
    public string Redis => Required("redis");

    public static Arguments Parse(string[] args)
    {
        if (args.Length == 0)
        {
            throw new ArgumentException("No mode given.");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected '--name value' at '{args[i]}'.");
            }

            values[args[i][2..]] = args[i + 1];
        }

        return new Arguments(args[0], values);
    }

    public string Required(string name)
        => _values.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new ArgumentException($"--{name} is required in {Mode} mode.");

    public string Text(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public int Number(string name, int? fallback = null)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return fallback ?? throw new ArgumentException($"--{name} is required in {Mode} mode.");
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"--{name} must be a positive whole number; it was '{text}'.");
    }
}
