using System.Buffers;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// Allocate N 64-byte objects, then free all N, repeatedly: the allocator's caches overflow and refill, and for
/// N = 100,000 the working set no longer fits in any cache. Reported per object (one alloc + one free). Two classes,
/// because BenchmarkDotNet's OperationsPerInvoke is a constant per method: <see cref="Batch1024Benchmarks"/> (100
/// rounds of 1,024 per invocation) and <see cref="Batch100000Benchmarks"/> (one round of 100,000).
/// </summary>
public abstract unsafe class BatchBenchmarks
{
    private const int Size = 64;

    /// <summary>Objects held at once.</summary>
    protected abstract int N { get; }

    /// <summary>Allocate-N-free-N rounds per invocation.</summary>
    protected abstract int Rounds { get; }

    private nint[] _ptrs = null!;
    private byte[][] _arrays = null!;
    private Obj64[] _objects = null!;
    private SlabCache _cache = null!;
    private SlabCache<Blob64> _typed = null!;
    private ObjectPool<Obj64> _pool = null!;
    private long _slabInvocations;

    [GlobalSetup]
    public void Setup()
    {
        _ptrs = new nint[N];
        _arrays = new byte[N][];
        _objects = new Obj64[N];
        _cache = SlabCache.Create($"bench_batch_{N}", Size, flags: SlabFlags.Panic)!;
        _typed = SlabCache<Blob64>.Create($"bench_batch_{N}_t", flags: SlabFlags.Panic);
        // A pool sized for the batch: what a user holding N objects at once would configure.
        _pool = new DefaultObjectPool<Obj64>(new DefaultPooledObjectPolicy<Obj64>(), N);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        CacheReport.Print(_cache, _slabInvocations);
        _cache.Dispose();
        _typed.Dispose();
    }

    protected void NativeMemoryRounds()
    {
        nint[] ptrs = _ptrs;
        for (int round = Rounds; round > 0; round--)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                long* p = (long*)NativeMemory.Alloc(Size);
                *p = i;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                NativeMemory.Free((void*)ptrs[i]);
        }
    }

    /// <summary>The same rounds on a native peer (<see cref="NativeLoops.Rounds{T}"/>).</summary>
    protected void NativeRounds<T>() where T : struct, IMalloc => NativeLoops.Rounds<T>(_ptrs, Rounds, Size);

    protected void SlabGenCacheRounds()
    {
        _slabInvocations++;
        nint[] ptrs = _ptrs;
        SlabCache cache = _cache;
        for (int round = Rounds; round > 0; round--)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                long* p = (long*)cache.Alloc();
                *p = i;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                cache.Free((void*)ptrs[i]);
        }
    }

    /// <summary>
    /// The typed rounds through a thread-bound handle (<see cref="SlabCache{T}.Local"/>): the thread's magazine table
    /// is read once per invocation instead of once per operation.
    /// </summary>
    protected void SlabGenLocalRounds()
    {
        nint[] ptrs = _ptrs;
        SlabLocal<Blob64> local = _typed.Local();
        for (int round = Rounds; round > 0; round--)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                Blob64* p = local.Alloc();
                p->Stamp = i;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                local.Free((Blob64*)ptrs[i]);
        }
    }

    /// <summary>The same rounds through <c>AllocBulk</c>/<c>FreeBulk</c> (<c>kmem_cache_alloc_bulk</c>/<c>kmem_cache_free_bulk</c>).</summary>
    protected void SlabGenBulkRounds()
    {
        nint[] ptrs = _ptrs;
        SlabCache cache = _cache;
        for (int round = Rounds; round > 0; round--)
        {
            cache.AllocBulk(ptrs);
            for (int i = 0; i < ptrs.Length; i++)
                *(long*)ptrs[i] = i;
            cache.FreeBulk(ptrs);
        }
    }

    protected void SlabGenTypedRounds()
    {
        nint[] ptrs = _ptrs;
        SlabCache<Blob64> cache = _typed;
        for (int round = Rounds; round > 0; round--)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                Blob64* p = cache.Alloc();
                p->Stamp = i;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                cache.Free((Blob64*)ptrs[i]);
        }
    }

    protected void ArrayPoolRounds()
    {
        byte[][] arrays = _arrays;
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int round = Rounds; round > 0; round--)
        {
            for (int i = 0; i < arrays.Length; i++)
            {
                byte[] a = pool.Rent(Size);
                a[0] = (byte)i;
                arrays[i] = a;
            }
            for (int i = 0; i < arrays.Length; i++)
            {
                pool.Return(arrays[i]);
                arrays[i] = null!;
            }
        }
    }

    protected void ObjectPoolRounds()
    {
        Obj64[] objects = _objects;
        ObjectPool<Obj64> pool = _pool;
        for (int round = Rounds; round > 0; round--)
        {
            for (int i = 0; i < objects.Length; i++)
            {
                Obj64 o = pool.Get();
                o.Stamp = i;
                objects[i] = o;
            }
            for (int i = 0; i < objects.Length; i++)
            {
                pool.Return(objects[i]);
                objects[i] = null!;
            }
        }
    }

    /// <summary>Plain <c>new</c>; "free" is dropping the reference, and the GC's cost lands in later allocations.</summary>
    protected void GcNewRounds()
    {
        Obj64[] objects = _objects;
        for (int round = Rounds; round > 0; round--)
        {
            for (int i = 0; i < objects.Length; i++)
                objects[i] = new Obj64 { Stamp = i };
            for (int i = 0; i < objects.Length; i++)
                objects[i] = null!;
        }
    }
}

/// <summary>Batches of 1,024 64-byte objects: 100 rounds per invocation.</summary>
[BenchmarkCategory("batch")]
public class Batch1024Benchmarks : BatchBenchmarks
{
    public const int Held = 1_024, RoundCount = 100, Ops = Held * RoundCount;

    protected override int N => Held;
    protected override int Rounds => RoundCount;

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)] public void NativeMemoryAllocFree() => NativeMemoryRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void SlabGenCache() => SlabGenCacheRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void SlabGenTyped() => SlabGenTypedRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void SlabGenLocal() => SlabGenLocalRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void SlabGenBulk() => SlabGenBulkRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void GlibcDirect() => NativeRounds<GlibcHeap>();
    [Benchmark(OperationsPerInvoke = Ops)] public void Mimalloc() => NativeRounds<MimallocHeap>();
    [Benchmark(OperationsPerInvoke = Ops)] public void Jemalloc() => NativeRounds<JemallocHeap>();
    [Benchmark(OperationsPerInvoke = Ops)] public void Tcmalloc() => NativeRounds<TcmallocHeap>();
    [Benchmark(OperationsPerInvoke = Ops)] public void ArrayPoolShared() => ArrayPoolRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void ObjectPoolDefault() => ObjectPoolRounds();
    /// <summary>Plain <c>new</c>; "free" is dropping the reference, and the GC's cost lands in later allocations.</summary>
    [Benchmark(OperationsPerInvoke = Ops)] public void GcNew() => GcNewRounds();
}

/// <summary>Batches of 100,000 64-byte objects (6.4 MB live, more than any cache holds): one round per invocation.</summary>
[BenchmarkCategory("batch")]
public class Batch100000Benchmarks : BatchBenchmarks
{
    public const int Held = 100_000, RoundCount = 1, Ops = Held * RoundCount;

    protected override int N => Held;
    protected override int Rounds => RoundCount;

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)] public void NativeMemoryAllocFree() => NativeMemoryRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void SlabGenCache() => SlabGenCacheRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void SlabGenTyped() => SlabGenTypedRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void SlabGenLocal() => SlabGenLocalRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void SlabGenBulk() => SlabGenBulkRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void GlibcDirect() => NativeRounds<GlibcHeap>();
    [Benchmark(OperationsPerInvoke = Ops)] public void Mimalloc() => NativeRounds<MimallocHeap>();
    [Benchmark(OperationsPerInvoke = Ops)] public void Jemalloc() => NativeRounds<JemallocHeap>();
    [Benchmark(OperationsPerInvoke = Ops)] public void Tcmalloc() => NativeRounds<TcmallocHeap>();
    [Benchmark(OperationsPerInvoke = Ops)] public void ArrayPoolShared() => ArrayPoolRounds();
    [Benchmark(OperationsPerInvoke = Ops)] public void ObjectPoolDefault() => ObjectPoolRounds();
    /// <summary>Plain <c>new</c>; "free" is dropping the reference, and the GC's cost lands in later allocations.</summary>
    [Benchmark(OperationsPerInvoke = Ops)] public void GcNew() => GcNewRounds();
}
