// The Locking cluster sample: several Orleans silo processes (Redis clustering, Redis grain storage) host the
// lock grains; client processes run [Exclusive] methods against them. run.sh starts everything.
//
//   Locking.Cluster silo   --redis HOST:PORT --silo-port N --gateway-port N [--name NAME]
//   Locking.Cluster client --redis HOST:PORT --run ID --client NAME [--workers 8] [--operations 200] [--skus 4]
//   Locking.Cluster verify --redis HOST:PORT --run ID
using Locking.Cluster;

try
{
    var arguments = Arguments.Parse(args);
    return arguments.Mode switch
    {
        "silo" => await SiloProcess.RunAsync(arguments),
        "client" => await ClientProcess.RunAsync(arguments),
        "verify" => await Verifier.RunAsync(arguments),
        _ => throw new ArgumentException($"Unknown mode '{arguments.Mode}': expected silo, client or verify."),
    };
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Arguments.Usage);
    return 2;
}
