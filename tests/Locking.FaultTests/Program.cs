using Locking.FaultTests.Processes;

namespace Locking.FaultTests;

/// <summary>
/// The entry point of this assembly when a fault scenario starts it as a process of its own:
/// <c>dotnet exec Locking.FaultTests.dll worker ...</c> (a lock client that logs its history) or
/// <c>dotnet exec Locking.FaultTests.dll silo ...</c> (an Orleans silo hosting the lock grains).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        try
        {
            return args switch
            {
                ["worker", .. var rest] => await WorkerProgram.RunAsync(Arguments.Parse(rest)),
                ["silo", .. var rest] => await SiloProgram.RunAsync(Arguments.Parse(rest)),
                _ => throw new ArgumentException("usage: worker --id ID --store redis|redlock|orleans ... | silo --redis HOST:PORT ..."),
            };
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }
    }
}
