using System.Diagnostics;
using BenchmarkDotNet.Running;
using Locking.Benchmarks;

// "cpu-generator": the generator passes timed by process CPU time as well as wall time, since wall time on a
// shared machine measures the neighbours too. Anything else goes to BenchmarkDotNet.
if (args is ["cpu-generator", ..])
{
    var benchmarks = new GeneratorCostBenchmarks();
    benchmarks.Setup();
    var rounds = args.Length > 1 ? int.Parse(args[1]) : 5;
    foreach (var (name, run) in GeneratorCostBenchmarks.Passes(benchmarks))
    {
        run();
        var cpu = new List<double>();
        var wall = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            GC.Collect();
            var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            run();
            wall.Add(clock.Elapsed.TotalMilliseconds);
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds);
        }

        Console.WriteLine($"{name}: median CPU {Median(cpu):0} ms, median wall {Median(wall):0} ms ({rounds} rounds)");
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
