using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// What slab_debug costs: the hot 64 B pair of <see cref="HotPairBenchmarks"/> on a cache without flags and on debug
/// caches with F, F Z P and F Z P U (<c>slab_debug=</c> letters). A debug cache takes the checked path on every
/// operation (its node's list lock, the checks its letters ask for; U records a stack trace per operation), so these
/// rows say what finding a bug with each setting costs a program, next to the default configuration.
/// </summary>
[BenchmarkCategory("debug")]
public unsafe class DebugBenchmarks
{
    public const int Ops = 1024;
    private const int Size = 64;

    private SlabCache _plain = null!, _f = null!, _fzp = null!, _fzpu = null!;

    [GlobalSetup]
    public void Setup()
    {
        _plain = SlabCache.Create("bench_debug_none", Size, flags: SlabFlags.Panic)!;
        _f = SlabCache.Create("bench_debug_f", Size, flags: SlabFlags.Panic | SlabFlags.ConsistencyChecks)!;
        _fzp = SlabCache.Create("bench_debug_fzp", Size,
            flags: SlabFlags.Panic | SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison)!;
        _fzpu = SlabCache.Create("bench_debug_fzpu", Size,
            flags: SlabFlags.Panic | SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison | SlabFlags.StoreUser)!;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plain.Dispose();
        _f.Dispose();
        _fzp.Dispose();
        _fzpu.Dispose();
    }

    private static void Pairs(SlabCache cache)
    {
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)cache.Alloc();
            *p = i;
            cache.Free(p);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree()
    {
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)NativeMemory.Alloc(Size);
            *p = i;
            NativeMemory.Free(p);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenCache() => Pairs(_plain);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenDebugF() => Pairs(_f);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenDebugFZP() => Pairs(_fzp);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenDebugFZPU() => Pairs(_fzpu);
}
