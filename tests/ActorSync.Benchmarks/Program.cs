// ActorSync.Core micro benchmarks (BenchmarkDotNet). Always run in Release:
//
//   dotnet run -c Release --project tests/ActorSync.Benchmarks -- --filter '*' --job short
//       every benchmark, BenchmarkDotNet's short job (one process per benchmark; ~1.5 min on 2 cores)
//   dotnet run -c Release --project tests/ActorSync.Benchmarks -- --quick
//       smoke run: every benchmark in this process, 1 warmup + 3 short iterations (~40 s on 2 cores);
//       numbers are indicative only. Combine with --filter to pick benchmarks (--quick --filter '*Receive*'),
//       not with --job (that would add a second job).
//   dotnet run -c Release --project tests/ActorSync.Benchmarks -- --list flat
//       the benchmark names
//
// Any other BenchmarkDotNet option (--filter, --job, --exporters, ...) passes through unchanged.
// Reports go to ./BenchmarkDotNet.Artifacts (git-ignored); --artifacts <dir> puts them elsewhere.
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

var quick = args.Contains("--quick");
var rest = args.Where(a => a != "--quick").ToArray();
if (quick && !rest.Contains("--filter")) rest = [.. rest, "--filter", "*"];

// Median beside Mean: with few iterations one disturbed iteration (a GC, a busy neighbour) skews the mean.
var config = DefaultConfig.Instance.AddColumn(StatisticColumn.Median);
if (quick)
    config = config.AddJob(Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(1)
        .WithIterationCount(3)
        .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
        .WithId("Quick"));

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config);

/// <summary>Entry point; see the usage at the top of this file.</summary>
public partial class Program;
