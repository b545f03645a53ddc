using System.Diagnostics;

namespace Locking.Runtime.Tests;

[Collection(RedisCollection.Name)]
public sealed class ExclusionTests(RedisFixture redis)
{
    [Fact]
    public async Task Sixteen_contenders_in_one_process_never_overlap_and_all_get_their_turns()
    {
        await using var provider = redis.Provider();
        var key = RedisFixture.UniqueKey("exclusion");
        var inside = 0;
        var overlaps = 0;
        var turns = 0;
        long lastToken = 0;
        var tokensOutOfOrder = 0;

        async Task ContendAsync()
        {
            for (var i = 0; i < 10; i++)
            {
                await using var lease = await provider.AcquireAsync(key, TestSupport.Options(waitMs: 30_000));
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                if (lease.FencingToken <= Volatile.Read(ref lastToken))
                {
                    Interlocked.Increment(ref tokensOutOfOrder);
                }

                Volatile.Write(ref lastToken, lease.FencingToken);
                await Task.Yield();
                turns++;
                Interlocked.Decrement(ref inside);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(ContendAsync))).Within(60, "160 exclusive turns");
        Assert.Equal(0, overlaps);
        Assert.Equal(0, tokensOutOfOrder);
        Assert.Equal(160, turns); // a non-atomic increment: lost updates would show an overlap
    }

    [Fact]
    public async Task Contenders_in_two_processes_never_overlap()
    {
        var key = RedisFixture.UniqueKey("two-processes");
        var ledger = Path.Combine(Path.GetTempPath(), $"locking-ledger-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(ledger, "0 0");
        try
        {
            const int perProcess = 40;
            using var child = ContenderProgram.Start(redis.Server.Endpoint, key, ledger, perProcess);
            var here = ContenderProgram.RunAsync(redis.Server.Endpoint, key, ledger, perProcess);
            var childExit = child.WaitForExitAsync();
            var violationsHere = await here.Within(90, "this process's turns");
            await childExit.Within(90, "the other process's turns");
            var childOutput = await child.StandardOutput.ReadToEndAsync();
            var childErrors = await child.StandardError.ReadToEndAsync();

            Assert.True(child.ExitCode == 0, $"The contender process failed ({child.ExitCode}): {childOutput} {childErrors}");
            Assert.Equal(0, violationsHere);
            Assert.Contains("violations=0", childOutput);
            var final = (await File.ReadAllTextAsync(ledger)).Split(' ');
            Assert.Equal(2 * perProcess, int.Parse(final[0]));
        }
        finally
        {
            File.Delete(ledger);
        }
    }
}
