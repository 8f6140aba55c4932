using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using BenchmarkDotNet.Attributes;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// Two worker threads do alloc+free pairs of 64 bytes while the benchmark thread either waits, or (the Tune case)
/// re-tunes the cache over and over, alternating between two settings (<c>Tune</c> builds new per-CPU arrays, steals
/// and drains every thread's magazine and rebuilds the shared arrays). Reported per pair over both workers, as in
/// <see cref="TwoThreadsBenchmarks"/>. The number of Tune calls per invocation is printed at cleanup.
/// </summary>
[BenchmarkCategory("tune")]
public unsafe class TuneUnderLoadBenchmarks
{
    public const int PairsPerThread = 500_000;
    public const int Ops = 2 * PairsPerThread;
    private const int Size = 64;

    private Worker _a = null!, _b = null!;
    private SlabCache _cache = null!;
    private Action _native = null!, _slab = null!;
    private long _tunes, _tunedInvocations, _tuneTicks;

    [GlobalSetup]
    public void Setup()
    {
        _a = new Worker("worker-a");
        _b = new Worker("worker-b");
        _cache = SlabCache.Create("bench_tune_64", Size, flags: SlabFlags.Panic)!;
        _native = () => PairLoops.Native(PairsPerThread);
        _slab = () => PairLoops.Slab(_cache, PairsPerThread);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
        _cache.Dispose();
        if (_tunedInvocations > 0)
            Console.WriteLine($"// Tune calls per invocation: {(double)_tunes / _tunedInvocations:F1} ({_tunes} in {_tunedInvocations} invocations), "
                + $"one Tune (+ a yield) every {Stopwatch.GetElapsedTime(0, _tuneTicks).TotalMicroseconds / Math.Max(1, _tunes):F0} µs");
    }

    private void WaitBoth()
    {
        var spin = new SpinWait();
        while (!_a.IsDone || !_b.IsDone)
            spin.SpinOnce(sleep1Threshold: -1);
        _a.Wait();
        _b.Wait();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree()
    {
        _a.Start(_native);
        _b.Start(_native);
        WaitBoth();
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenNoTune()
    {
        _a.Start(_slab);
        _b.Start(_slab);
        WaitBoth();
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenWhileTuning()
    {
        SlabCache cache = _cache;
        _a.Start(_slab);
        _b.Start(_slab);
        long tunes = 0, start = Stopwatch.GetTimestamp();
        while (!_a.IsDone || !_b.IsDone)
        {
            if ((tunes & 1) == 0)
                cache.Tune(32, 16, 4);
            else
                cache.Tune(120, 60, 8);
            tunes++;
            Thread.Yield();
        }
        _tuneTicks += Stopwatch.GetTimestamp() - start;
        _a.Wait();
        _b.Wait();
        _tunes += tunes;
        _tunedInvocations++;
    }


}
