using System;
using BenchmarkDotNet.Attributes;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// Larson and Krishnan's server benchmark, with mimalloc-bench's parameters (<c>larson 5 8 1000 5000 100 4141 N</c>)
/// on 2 threads: 5,000 live blocks per thread of 8..999 bytes, seed 4141, and a thread life of 100 rounds (500,000
/// replacements) after which the thread exits and a new one inherits its blocks. mimalloc-bench runs lives for 5
/// seconds; here one invocation is one life of each of the 2 threads, so invocations are bounded. Reported per
/// operation (one free + one alloc) over both threads: wall time / (2 × 500,000), like larson's throughput.
/// </summary>
[BenchmarkCategory("larson")]
public unsafe class LarsonBenchmarks
{
    public const int Threads = 2, BlocksPerThread = 5_000, Rounds = 100, MinSize = 8, MaxSize = 1_000, Seed = 4141;
    public const int Ops = Threads * Rounds * BlocksPerThread;

    private ILarson? _run;
    private string _peer = "";

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_run == null)
            return;
        Console.WriteLine(_run.Report(_peer));
        _run.Dispose();
        _run = null;
    }

    // The blocks are allocated (larson's warmup) by the first invocation, which BenchmarkDotNet does not measure.
    private void Run<T>(string peer) where T : struct, IMalloc
    {
        if (_run == null)
        {
            _peer = peer;
            _run = new Larson<T>(Threads, BlocksPerThread, Rounds, MinSize, MaxSize, Seed);
        }
        _run.Invoke();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree() => Run<NativeMemoryHeap>("NativeMemory");

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenKmalloc() => Run<KmallocHeap>("Kmalloc");

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GlibcDirect() => Run<GlibcHeap>("glibc");

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Mimalloc() => Run<MimallocHeap>("mimalloc");

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Jemalloc() => Run<JemallocHeap>("jemalloc");

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Tcmalloc() => Run<TcmallocHeap>("tcmalloc");
}
