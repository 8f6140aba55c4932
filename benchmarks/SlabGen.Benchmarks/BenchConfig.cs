using System.Runtime.CompilerServices;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;
using Perfolizer.Horology;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks;

/// <summary>The two ways to run the suite: the full job (BenchmarkDotNet's defaults) and the quick one.</summary>
public static class BenchConfig
{
    /// <summary>True in a Native AOT build of the suite: no JIT, no Reflection.Emit.</summary>
    public static bool IsNativeAot => !RuntimeFeature.IsDynamicCodeSupported;

    /// <summary>
    /// The in-process toolchain: <c>InProcessEmitToolchain</c> under the JIT; under Native AOT, where nothing can be
    /// emitted, <c>InProcessNoEmitToolchain</c>, which calls the benchmark through a delegate instead.
    /// </summary>
    private static IToolchain InProcessToolchain => IsNativeAot ? InProcessNoEmitToolchain.Instance : InProcessEmitToolchain.Instance;

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
        return inProcess ? job.WithToolchain(InProcessToolchain) : job;
    }

    /// <summary>
    /// The full job: BenchmarkDotNet's default job (automatic warm-up and iteration counts, 500 ms iterations) with
    /// unroll factor 1, since each invocation already loops over thousands of operations (and a batch invocation lasts
    /// tens of milliseconds, which a 16x unroll would turn into second-long iterations).
    /// </summary>
    public static Job FullJob(bool inProcess)
    {
        Job job = Job.Default.WithId(inProcess ? "FullInProcess" : "Full").WithUnrollFactor(1);
        return inProcess ? job.WithToolchain(InProcessToolchain) : job;
    }

    /// <summary>The job, the median column, and a filter that leaves out the benchmarks of native peers that are not installed.</summary>
    public static IConfig Create(bool quick, bool inProcess)
    {
        return DefaultConfig.Instance
            .AddJob((quick ? QuickJob(inProcess) : FullJob(inProcess)).AsDefault())
            .AddColumn(StatisticColumn.Median)
            .AddFilter(new SimpleFilter(b => !NativePeers.IsSkipped(b.Descriptor.WorkloadMethod.Name)))
            .WithOptions(ConfigOptions.JoinSummary);
    }

    public static string Describe(bool quick, bool inProcess)
    {
        string where = inProcess ? IsNativeAot ? ", in-process (InProcessNoEmitToolchain)" : ", in-process" : ", one process per benchmark";
        string runtime = IsNativeAot ? ", Native AOT" : QuickTiering.IsSet ? $", JIT ({QuickTiering.Setting})" : ", JIT";
        return quick
            ? $"quick: 1 launch, 3 warm-up + 7 iterations of ~100 ms, unroll 1, no overhead evaluation{where}{runtime}"
            : $"full: BenchmarkDotNet default job (auto warm-up/iterations, 500 ms iterations), unroll 1{where}{runtime}";
    }
}
