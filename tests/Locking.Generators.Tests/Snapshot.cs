using System.Runtime.CompilerServices;
using System.Text;

namespace Locking.Generators.Tests;

/// <summary>
/// Golden files of the generated source under Snapshots/{case}/{hint name}. A missing file is written and the
/// test fails so that it is reviewed; LOCKING_UPDATE_SNAPSHOTS=1 rewrites every file after an intended change.
/// </summary>
internal static class Snapshot
{
    public static void Match(string caseName, GeneratorRun run, [CallerFilePath] string callerFile = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots", caseName);
        var update = Environment.GetEnvironmentVariable("LOCKING_UPDATE_SNAPSHOTS") == "1";
        Directory.CreateDirectory(directory);
        var failures = new StringBuilder();
        foreach (var source in run.Sources)
        {
            var path = Path.Combine(directory, source.HintName);
            var actual = source.SourceText.ToString().Replace("\r\n", "\n");
            if (update || !File.Exists(path))
            {
                failures.Append(update ? "" : $"New snapshot written, review it: {path}\n");
                File.WriteAllText(path, actual);
                continue;
            }

            var expected = File.ReadAllText(path).Replace("\r\n", "\n");
            if (expected != actual)
            {
                failures.Append(Difference(source.HintName, expected, actual));
            }
        }

        var generated = run.Sources.Select(s => s.HintName).ToHashSet();
        foreach (var stale in Directory.GetFiles(directory).Where(f => !generated.Contains(Path.GetFileName(f))))
        {
            failures.Append($"{Path.GetFileName(stale)} is no longer generated (delete the snapshot if that is intended).\n");
        }

        Assert.True(failures.Length == 0, failures.ToString());
    }

    private static string Difference(string name, string expected, string actual)
    {
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        for (var i = 0; i < Math.Max(expectedLines.Length, actualLines.Length); i++)
        {
            var e = i < expectedLines.Length ? expectedLines[i] : "<end of file>";
            var a = i < actualLines.Length ? actualLines[i] : "<end of file>";
            if (e != a)
            {
                return $"{name} differs from its snapshot at line {i + 1}:\n  expected: {e}\n  actual:   {a}\n--- full output ---\n{actual}\n";
            }
        }

        return "";
    }
}
