using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace SlabGen.Benchmarks;

/// <summary>The two ways to run the suite: the full job (BenchmarkDotNet's defaults) and the quick one.</summary>
public static class BenchConfig
{
    /// <summary>
    /// The quick job: one launch, 3 warm-up and 7 measured iterations of ~100 ms, no overhead evaluation (every
    /// benchmark does thousands of operations per invocation, so the call overhead is far below the noise).
    /// </summary>
    public static Job QuickJob(bool inProcess)
    {
        Job job = Job.Default
            .WithId(inProcess ? "QuickInProcess" : "Quick")
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(7)
            .WithIterationTime(TimeInterval.FromMilliseconds(100))
            .WithUnrollFactor(1)
            .WithEvaluateOverhead(false);
        return inProcess ? job.WithToolchain(InProcessEmitToolchain.Instance) : job;
    }

    /// <summary>
    /// The full job: BenchmarkDotNet's default job (automatic warm-up and iteration counts, 500 ms iterations) with
    /// unroll factor 1, since each invocation already loops over thousands of operations (and a batch invocation lasts
    /// tens of milliseconds, which a 16x unroll would turn into second-long iterations).
    /// </summary>
    public static Job FullJob(bool inProcess)
    {
        Job job = Job.Default.WithId(inProcess ? "FullInProcess" : "Full").WithUnrollFactor(1);
        return inProcess ? job.WithToolchain(InProcessEmitToolchain.Instance) : job;
    }

    public static IConfig Create(bool quick, bool inProcess)
    {
        return DefaultConfig.Instance
            .AddJob((quick ? QuickJob(inProcess) : FullJob(inProcess)).AsDefault())
            .AddColumn(StatisticColumn.Median)
            .WithOptions(ConfigOptions.JoinSummary);
    }

    public static string Describe(bool quick, bool inProcess) => quick
        ? $"quick: 1 launch, 3 warm-up + 7 iterations of ~100 ms, unroll 1, no overhead evaluation{(inProcess ? ", in-process" : ", one process per benchmark")}"
        : $"full: BenchmarkDotNet default job (auto warm-up/iterations, 500 ms iterations), unroll 1{(inProcess ? ", in-process" : ", one process per benchmark")}";
}
