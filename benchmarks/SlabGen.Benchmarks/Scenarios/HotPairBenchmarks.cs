using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;
using SlabGen.Core;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// One alloc+free pair, freed at once, on a hot cache: the allocator's fast path and nothing else. Each object is
/// written (a stamp) so that no peer gets away with handing out memory nobody touches.
/// </summary>
[BenchmarkCategory("hot")]
public unsafe class HotPairBenchmarks
{
    public const int Ops = 4096;

    private SlabCache _cache = null!;
    private SlabCache<Blob64> _typed64 = null!;
    private SlabCache<Blob256> _typed256 = null!;
    private ObjectPool<Obj64> _pool64 = null!;
    private ObjectPool<Obj256> _pool256 = null!;
    private object? _sink;

    [Params(64, 256)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cache = SlabCache.Create($"bench_hot_{Size}", Size, flags: SlabFlags.Panic)!;
        _typed64 = SlabCache<Blob64>.Create("bench_hot_t64", flags: SlabFlags.Panic);
        _typed256 = SlabCache<Blob256>.Create("bench_hot_t256", flags: SlabFlags.Panic);
        _pool64 = new DefaultObjectPoolProvider().Create<Obj64>();
        _pool256 = new DefaultObjectPoolProvider().Create<Obj256>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _typed64.Dispose();
        _typed256.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree()
    {
        nuint size = (nuint)Size;
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)NativeMemory.Alloc(size);
            *p = i;
            NativeMemory.Free(p);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenCache()
    {
        SlabCache cache = _cache;
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)cache.Alloc();
            *p = i;
            cache.Free(p);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenTyped()
    {
        if (Size == 64)
            Typed(_typed64);
        else
            Typed(_typed256);
    }

    // Each size gets its own method (and T its own native code), so that when the quick mode runs both sizes in one
    // process the second size does not run code tiered and profiled (PGO) for the first.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Typed<T>(SlabCache<T> cache) where T : unmanaged
    {
        for (int i = 0; i < Ops; i++)
        {
            T* p = cache.Alloc();
            *(long*)p = i;
            cache.Free(p);
        }
    }

    /// <summary>The fastest public API: the typed cache bound to this thread (<see cref="SlabLocal{T}"/>), made once per invocation.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenLocal()
    {
        if (Size == 64)
            Local(_typed64);
        else
            Local(_typed256);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Local<T>(SlabCache<T> cache) where T : unmanaged
    {
        SlabLocal<T> local = cache.Local();
        for (int i = 0; i < Ops; i++)
        {
            T* p = local.Alloc();
            *(long*)p = i;
            local.Free(p);
        }
    }

    /// <summary>
    /// Not an API: <see cref="SlabGenLocal"/>'s loop with the checks against caller errors taken out, to measure what
    /// they cost. The magazine and its protocol with stealers stay (the tag read on both halves, the allocation's
    /// commit, the free mark written); gone are the allocation's test of the popped object's free mark (a write after
    /// free), and the free's tests that the pointer is an object of the cache and not free already. Correct only for
    /// a caller that makes none of those errors, as this loop does; the slow paths are the checked ones.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void Unchecked()
    {
        if (Size == 64)
            UncheckedPairs(_typed64);
        else
            UncheckedPairs(_typed256);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void UncheckedPairs<T>(SlabCache<T> cache) where T : unmanaged
    {
        SlabLocal<T> local = cache.Local(); // the slow paths
        FastPath fast = cache.Cache.Fast;
        nint* table = ThreadMagazines.Table();
        for (int i = 0; i < Ops; i++)
        {
            T* p = null;
            Magazine* m = Magazine.FromEntry(table, table[fast.Slot]);
            if (Volatile.Read(ref m->Tag) == fast.Tag)
            {
                long count = m->Count;
                int n = Magazine.AvailOf(count) - 1;
                if (n >= 0)
                    p = (T*)fast.CommitAlloc(m, count, Magazine.Entry(m)[n]); // null when a stealer took it
            }
            if (p == null)
                p = local.Alloc();
            *(long*)p = i;
            m = Magazine.FromEntry(table, table[fast.Slot]);
            if (Volatile.Read(ref m->Tag) == fast.Tag)
            {
                long count = m->Count;
                if (Magazine.AvailOf(count) < m->Limit)
                {
                    fast.CommitFree(m, count, p, fast.Fp.Key(p));
                    continue;
                }
            }
            local.Free(p);
        }
    }

    /// <summary>
    /// The floor (<see cref="FreeListFloor"/>): pop a block off a thread-local intrusive free list, stamp it, push it
    /// back, in the same loop. The head is read from the thread-static once per invocation and written back at the end.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void Floor()
    {
        if (Size == 64)
            FloorPairs64();
        else
            FloorPairs256();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FloorPairs64()
    {
        void* head = FreeListFloor.Head64();
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)head; // pop
            head = *(void**)p;
            p[1] = i; // the first word is the free-list link
            *(void**)p = head; // push
            head = p;
        }
        FreeListFloor.t_head64 = head;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FloorPairs256()
    {
        void* head = FreeListFloor.Head256();
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)head; // pop
            head = *(void**)p;
            p[1] = i; // the first word is the free-list link
            *(void**)p = head; // push
            head = p;
        }
        FreeListFloor.t_head256 = head;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GlibcDirect() => NativeLoops.Pairs<GlibcHeap>((nuint)Size, Ops);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Mimalloc() => NativeLoops.Pairs<MimallocHeap>((nuint)Size, Ops);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Jemalloc() => NativeLoops.Pairs<JemallocHeap>((nuint)Size, Ops);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Tcmalloc() => NativeLoops.Pairs<TcmallocHeap>((nuint)Size, Ops);

    /// <summary>Renting with a constant size, as user code would (the pool then picks its bucket at compile time).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void ArrayPoolShared()
    {
        if (Size == 64)
            Rent64();
        else
            Rent256();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Rent64()
    {
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int i = 0; i < Ops; i++)
        {
            byte[] a = pool.Rent(64);
            a[0] = (byte)i;
            pool.Return(a);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Rent256()
    {
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int i = 0; i < Ops; i++)
        {
            byte[] a = pool.Rent(256);
            a[0] = (byte)i;
            pool.Return(a);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ObjectPoolDefault()
    {
        if (Size == 64)
            Pooled(_pool64);
        else
            Pooled(_pool256);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Pooled(ObjectPool<Obj64> pool)
    {
        for (int i = 0; i < Ops; i++)
        {
            Obj64 o = pool.Get();
            o.Stamp = i;
            pool.Return(o);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Pooled(ObjectPool<Obj256> pool)
    {
        for (int i = 0; i < Ops; i++)
        {
            Obj256 o = pool.Get();
            o.Stamp = i;
            pool.Return(o);
        }
    }

    /// <summary>Plain <c>new</c>; the object escapes to a field (so it is not stack-allocated) and the GC reclaims it.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void GcNew()
    {
        if (Size == 64)
            New64();
        else
            New256();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void New64()
    {
        for (int i = 0; i < Ops; i++)
            _sink = new Obj64 { Stamp = i };
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void New256()
    {
        for (int i = 0; i < Ops; i++)
            _sink = new Obj256 { Stamp = i };
    }
}
