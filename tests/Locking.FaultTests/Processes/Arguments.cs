using System.Globalization;

namespace Locking.FaultTests.Processes;

/// <summary>"--name value" pairs on a child process's command line.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string> _values;

    private Arguments(Dictionary<string, string> values) => _values = values;

    public static Arguments Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
            {
                throw new ArgumentException($"Expected '--name value' pairs; got '{string.Join(' ', args)}'.");
            }

            values[args[i][2..]] = args[i + 1];
        }

        return new Arguments(values);
    }

    /// <summary>The command line of <paramref name="values"/>, the inverse of <see cref="Parse"/>.</summary>
    public static IEnumerable<string> Format(IEnumerable<KeyValuePair<string, string>> values)
        => values.SelectMany(pair => new[] { "--" + pair.Key, pair.Value });

    public string Text(string name) => _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"Missing --{name}.");

    public string Text(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public int Number(string name) => int.Parse(Text(name), CultureInfo.InvariantCulture);

    public int Number(string name, int fallback) => _values.ContainsKey(name) ? Number(name) : fallback;

    public bool Flag(string name) => _values.TryGetValue(name, out var value) && bool.Parse(value);

    public string[] List(string name) => Text(name).Split(',', StringSplitOptions.RemoveEmptyEntries);
}
