using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>A 64-byte struct whose cache, <c>Alloc</c> and <c>Free</c> come from the <c>[SlabCache]</c> generator.</summary>
[SlabCache(Name = "bench_generated_64")]
public partial struct GeneratedObject
{
    public long Stamp;
    public long A, B, C, D, E, F, G;
}

/// <summary>
/// The generated API (<c>GeneratedObject.Alloc()</c> / <c>GeneratedObject.Free(p)</c>) against the hand-written
/// <see cref="SlabCache{T}"/> of an equally sized struct and the peers, 64 bytes. Held = 1: alloc+free pairs in one
/// loop, as in <see cref="HotPairBenchmarks"/>; Held = 1,024: allocate 1,024 then free them, as in
/// <see cref="Batch1024Benchmarks"/>. Reported per alloc+free pair.
/// </summary>
[BenchmarkCategory("generated")]
public unsafe class GeneratedStructBenchmarks
{
    public const int Ops = 4096;

    private nint[] _ptrs = null!;
    private byte[][] _arrays = null!;
    private SlabCache<Blob64> _typed = null!;

    [Params(1, 1_024)]
    public int Held { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ptrs = new nint[Held];
        _arrays = new byte[Held][];
        _typed = SlabCache<Blob64>.Create("bench_generated_t64", flags: SlabFlags.Panic);
        GeneratedObject.Free(GeneratedObject.Alloc()); // create the generated cache outside the measurement
    }

    [GlobalCleanup]
    public void Cleanup() => _typed.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree()
    {
        if (Held == 1)
            NativePairs();
        else
            NativeRounds(_ptrs);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenGenerated()
    {
        if (Held == 1)
            GeneratedPairs();
        else
            GeneratedRounds(_ptrs);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenTyped()
    {
        if (Held == 1)
            TypedPairs(_typed);
        else
            TypedRounds(_typed, _ptrs);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GlibcDirect() => Native<GlibcHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Mimalloc() => Native<MimallocHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Jemalloc() => Native<JemallocHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Tcmalloc() => Native<TcmallocHeap>();

    private void Native<T>() where T : struct, IMalloc
    {
        if (Held == 1)
            NativeLoops.Pairs<T>(64, Ops);
        else
            NativeLoops.Rounds<T>(_ptrs, Ops / _ptrs.Length, 64);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ArrayPoolShared()
    {
        if (Held == 1)
            ArrayPoolPairs();
        else
            ArrayPoolRounds(_arrays);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void NativePairs()
    {
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)NativeMemory.Alloc(64);
            *p = i;
            NativeMemory.Free(p);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void NativeRounds(nint[] ptrs)
    {
        for (int round = Ops / ptrs.Length; round > 0; round--)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                long* p = (long*)NativeMemory.Alloc(64);
                *p = i;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                NativeMemory.Free((void*)ptrs[i]);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GeneratedPairs()
    {
        for (int i = 0; i < Ops; i++)
        {
            GeneratedObject* p = GeneratedObject.Alloc();
            p->Stamp = i;
            GeneratedObject.Free(p);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GeneratedRounds(nint[] ptrs)
    {
        for (int round = Ops / ptrs.Length; round > 0; round--)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                GeneratedObject* p = GeneratedObject.Alloc();
                p->Stamp = i;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                GeneratedObject.Free((GeneratedObject*)ptrs[i]);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TypedPairs(SlabCache<Blob64> cache)
    {
        for (int i = 0; i < Ops; i++)
        {
            Blob64* p = cache.Alloc();
            p->Stamp = i;
            cache.Free(p);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void TypedRounds(SlabCache<Blob64> cache, nint[] ptrs)
    {
        for (int round = Ops / ptrs.Length; round > 0; round--)
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ArrayPoolPairs()
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
    private static void ArrayPoolRounds(byte[][] arrays)
    {
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int round = Ops / arrays.Length; round > 0; round--)
        {
            for (int i = 0; i < arrays.Length; i++)
            {
                byte[] a = pool.Rent(64);
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
}
