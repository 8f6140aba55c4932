using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// The split pair: the allocation and the free of 64 bytes happen in two different methods that are never inlined,
/// as in real code, where a receive path allocates a request and a completion path frees it. Nothing read by the
/// allocation (a thread-local, a cache's fields) can be kept in a register for the free, or hoisted out of the loop.
/// Reported per alloc+free pair.
/// </summary>
[BenchmarkCategory("split")]
public unsafe class SplitPairBenchmarks
{
    public const int Ops = 4096;
    private const int Size = 64;

    private SlabCache _cache = null!;
    private SlabCache<Blob64> _typed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _cache = SlabCache.Create("bench_split_64", Size, flags: SlabFlags.Panic)!;
        _typed = SlabCache<Blob64>.Create("bench_split_t64", flags: SlabFlags.Panic);
        GeneratedObject.Free(GeneratedObject.Alloc()); // create the generated cache outside the measurement
        Kmalloc.Free(Kmalloc.Alloc(Size));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _typed.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree()
    {
        for (int i = 0; i < Ops; i++)
            CompleteNative(ReceiveNative(i));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long* ReceiveNative(int i)
    {
        long* p = (long*)NativeMemory.Alloc(Size);
        *p = i;
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CompleteNative(long* p) => NativeMemory.Free(p);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenCache()
    {
        SlabCache cache = _cache;
        for (int i = 0; i < Ops; i++)
            CompleteSlab(cache, ReceiveSlab(cache, i));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long* ReceiveSlab(SlabCache cache, int i)
    {
        long* p = (long*)cache.Alloc();
        *p = i;
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CompleteSlab(SlabCache cache, long* p) => cache.Free(p);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenTyped()
    {
        SlabCache<Blob64> cache = _typed;
        for (int i = 0; i < Ops; i++)
            CompleteTyped(cache, ReceiveTyped(cache, i));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Blob64* ReceiveTyped(SlabCache<Blob64> cache, int i)
    {
        Blob64* p = cache.Alloc();
        p->Stamp = i;
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CompleteTyped(SlabCache<Blob64> cache, Blob64* p) => cache.Free(p);

    /// <summary>A thread-bound handle made once per invocation and passed down to both methods, as a request handler would.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenLocal()
    {
        SlabLocal<Blob64> local = _typed.Local();
        for (int i = 0; i < Ops; i++)
            CompleteLocal(in local, ReceiveLocal(in local, i));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Blob64* ReceiveLocal(scoped in SlabLocal<Blob64> local, int i)
    {
        Blob64* p = local.Alloc();
        p->Stamp = i;
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CompleteLocal(scoped in SlabLocal<Blob64> local, Blob64* p) => local.Free(p);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenGenerated()
    {
        for (int i = 0; i < Ops; i++)
            CompleteGenerated(ReceiveGenerated(i));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static GeneratedObject* ReceiveGenerated(int i)
    {
        GeneratedObject* p = GeneratedObject.Alloc();
        p->Stamp = i;
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CompleteGenerated(GeneratedObject* p) => GeneratedObject.Free(p);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenKmalloc()
    {
        for (int i = 0; i < Ops; i++)
            CompleteKmalloc(ReceiveKmalloc(i));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long* ReceiveKmalloc(int i)
    {
        long* p = (long*)Kmalloc.Alloc(Size);
        *p = i;
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CompleteKmalloc(long* p) => Kmalloc.Free(p);

    /// <summary>The floor, split: each method reads and writes the thread-local head itself.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void Floor()
    {
        FreeListFloor.Head64(); // carve this thread's arena on its first call
        for (int i = 0; i < Ops; i++)
            CompleteFloor(ReceiveFloor(i));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long* ReceiveFloor(int i)
    {
        long* p = (long*)FreeListFloor.t_head64; // pop
        FreeListFloor.t_head64 = *(void**)p;
        p[1] = i; // the first word is the free-list link
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CompleteFloor(long* p)
    {
        *(void**)p = FreeListFloor.t_head64; // push
        FreeListFloor.t_head64 = p;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GlibcDirect() => Split<GlibcHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Mimalloc() => Split<MimallocHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Jemalloc() => Split<JemallocHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Tcmalloc() => Split<TcmallocHeap>();

    private static void Split<T>() where T : struct, IMalloc
    {
        T.Require();
        for (int i = 0; i < Ops; i++)
            Complete<T>(Receive<T>(i));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long* Receive<T>(int i) where T : struct, IMalloc
    {
        long* p = (long*)T.Malloc(Size);
        *p = i;
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Complete<T>(long* p) where T : struct, IMalloc => T.Free(p);
}
