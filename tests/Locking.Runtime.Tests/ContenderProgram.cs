using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Locking.Runtime.Tests;

/// <summary>
/// The entry point of this assembly when it runs as a second contender process (<c>dotnet exec
/// Locking.Runtime.Tests.dll contend ...</c>). Each turn, under the lease, it opens a ledger file exclusively and
/// moves "count lastToken" forward: an overlapping holder fails to open it, a lost update shows in the count, and
/// a stale holder shows as a fencing token that did not increase.
/// </summary>
public static class ContenderProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args is [var mode, ..] && LockProcess.Modes.Contains(mode))
        {
            return await LockProcess.RunAsync(args);
        }

        if (args is not ["contend", var endpoint, var key, var ledger, var turns])
        {
            Console.Error.WriteLine("usage: contend <endpoint> <key> <ledger file> <turns>");
            return 2;
        }

        var violations = await RunAsync(endpoint, key, ledger, int.Parse(turns, CultureInfo.InvariantCulture));
        Console.WriteLine($"violations={violations}");
        return 0;
    }

    public static Process Start(string endpoint, string key, string ledger, int turns)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "exec", typeof(ContenderProgram).Assembly.Location, "contend", endpoint, key, ledger, turns.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("Could not start the contender process.");
    }

    /// <summary>Eight tasks take <paramref name="turns"/> turns in all; returns how many turns saw another holder.</summary>
    public static async Task<int> RunAsync(string endpoint, string key, string ledger, int turns)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(endpoint);
        await using var provider = new RedisLockProvider(connection);
        var violations = 0;
        var remaining = turns;

        async Task ContendAsync()
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                await using var lease = await provider.AcquireAsync(key, new LockOptions { Ttl = TimeSpan.FromSeconds(10), Wait = TimeSpan.FromSeconds(60) });
                try
                {
                    await using var file = new FileStream(ledger, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                    var text = await new StreamReader(file).ReadToEndAsync();
                    var parts = text.Split(' ');
                    var count = int.Parse(parts[0], CultureInfo.InvariantCulture);
                    var lastToken = long.Parse(parts[1], CultureInfo.InvariantCulture);
                    if (lease.FencingToken <= lastToken)
                    {
                        Interlocked.Increment(ref violations);
                    }

                    await Task.Delay(1);
                    file.SetLength(0);
                    var writer = new StreamWriter(file);
                    await writer.WriteAsync($"{count + 1} {lease.FencingToken}");
                    await writer.FlushAsync();
                }
                catch (IOException)
                {
                    // Another holder has the ledger open: two leases at once.
                    Interlocked.Increment(ref violations);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(ContendAsync)));
        return violations;
    }
}
