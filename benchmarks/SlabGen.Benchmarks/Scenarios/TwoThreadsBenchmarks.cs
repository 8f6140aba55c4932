using System;
using System.Buffers;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// Two threads (the benchmark thread and one worker) each do alloc+free pairs of 64 bytes on the same allocator at the
/// same time. Reported per pair over both threads: wall time / (2 × pairs per thread), so perfect scaling on this
/// 2-core machine shows as half the single-thread cost.
/// </summary>
[BenchmarkCategory("two-threads")]
public unsafe class TwoThreadsBenchmarks
{
    public const int PairsPerThread = 100_000;
    public const int Ops = 2 * PairsPerThread;
    private const int Size = 64;

    private Worker _other = null!;
    private SlabCache _cache = null!;
    private ObjectPool<Obj64> _pool = null!;
    private Action _native = null!, _slab = null!, _arrayPool = null!, _objectPool = null!, _gc = null!;
    private Action _glibc = null!, _mimalloc = null!, _jemalloc = null!, _tcmalloc = null!;
    private Obj64? _sinkMain, _sinkOther;

    [GlobalSetup]
    public void Setup()
    {
        _other = new Worker("second");
        _cache = SlabCache.Create("bench_2t_64", Size, flags: SlabFlags.Panic)!;
        _pool = new DefaultObjectPoolProvider().Create<Obj64>();
        _native = () => PairLoops.Native(PairsPerThread);
        _slab = () => PairLoops.Slab(_cache, PairsPerThread);
        _glibc = () => NativeLoops.Pairs<GlibcHeap>(Size, PairsPerThread);
        _mimalloc = () => NativeLoops.Pairs<MimallocHeap>(Size, PairsPerThread);
        _jemalloc = () => NativeLoops.Pairs<JemallocHeap>(Size, PairsPerThread);
        _tcmalloc = () => NativeLoops.Pairs<TcmallocHeap>(Size, PairsPerThread);
        _arrayPool = ArrayPoolPairs;
        _objectPool = ObjectPoolPairs;
        _gc = () => _sinkOther = GcPairs();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _other.Dispose();
        _cache.Dispose();
    }

    private void Both(Action pairs)
    {
        _other.Start(pairs);
        pairs();
        _other.Wait();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree() => Both(_native);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenCache() => Both(_slab);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GlibcDirect() => Both(_glibc);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Mimalloc() => Both(_mimalloc);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Jemalloc() => Both(_jemalloc);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Tcmalloc() => Both(_tcmalloc);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ArrayPoolShared() => Both(_arrayPool);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ObjectPoolDefault() => Both(_objectPool);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GcNew()
    {
        _other.Start(_gc);
        _sinkMain = GcPairs();
        _other.Wait();
    }

    private static void ArrayPoolPairs()
    {
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int i = 0; i < PairsPerThread; i++)
        {
            byte[] a = pool.Rent(Size);
            a[0] = (byte)i;
            pool.Return(a);
        }
    }

    private void ObjectPoolPairs()
    {
        ObjectPool<Obj64> pool = _pool;
        for (int i = 0; i < PairsPerThread; i++)
        {
            Obj64 o = pool.Get();
            o.Stamp = i;
            pool.Return(o);
        }
    }

    private static Obj64? GcPairs()
    {
        Obj64? last = null;
        for (int i = 0; i < PairsPerThread; i++)
            last = new Obj64 { Stamp = i, };
        return last;
    }
}
