using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// Allocations of random sizes, uniform in 8..1,024 bytes (a fixed seed, the same sequence for every peer): either
/// alloc+free pairs in one loop (Held = 1) or 1,024 allocated and then freed. Each block is written at both ends.
/// Reported per alloc+free pair.
/// </summary>
[BenchmarkCategory("kmalloc")]
public unsafe class KmallocBenchmarks
{
    public const int Ops = 4096;

    private int[] _sizes = null!;
    private nint[] _ptrs = null!;
    private byte[][] _arrays = null!;

    [Params(1, 1_024)]
    public int Held { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20_251_122);
        _sizes = new int[Ops];
        for (int i = 0; i < _sizes.Length; i++)
            _sizes[i] = random.Next(8, 1025);
        _ptrs = new nint[Held];
        _arrays = new byte[Held][];
        // Touch every kmalloc cache once so no size class is first used inside a measured invocation.
        for (int i = 0; i < _sizes.Length; i++)
            Kmalloc.Free(Kmalloc.Alloc((nuint)_sizes[i]));
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree()
    {
        if (Held == 1)
            NativePairs(_sizes);
        else
            NativeRounds(_sizes, _ptrs);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenKmalloc()
    {
        if (Held == 1)
            KmallocPairs(_sizes);
        else
            KmallocRounds(_sizes, _ptrs);
    }

    /// <summary>The fastest public kmalloc API: a thread-bound <see cref="KmallocLocal"/> and a sized free.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenKmallocLocal()
    {
        if (Held == 1)
            KmallocLocalPairs(_sizes);
        else
            KmallocLocalRounds(_sizes, _ptrs);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GlibcDirect() => Native<GlibcHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Mimalloc() => Native<MimallocHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Jemalloc() => Native<JemallocHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Tcmalloc() => Native<TcmallocHeap>();

    // The peers' sized frees, to compare with SlabGenKmallocLocal's.
    [Benchmark(OperationsPerInvoke = Ops)]
    public void MimallocSized() => NativeSized<MimallocHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void JemallocSized() => NativeSized<JemallocHeap>();

    [Benchmark(OperationsPerInvoke = Ops)]
    public void TcmallocSized() => NativeSized<TcmallocHeap>();

    private void NativeSized<T>() where T : struct, IMalloc
    {
        if (Held == 1)
            NativeLoops.SizedFreePairs<T>(_sizes);
        else
            NativeLoops.SizedFreeRounds<T>(_sizes, _ptrs);
    }

    private void Native<T>() where T : struct, IMalloc
    {
        if (Held == 1)
            NativeLoops.SizedPairs<T>(_sizes);
        else
            NativeLoops.SizedRounds<T>(_sizes, _ptrs);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ArrayPoolShared()
    {
        if (Held == 1)
            ArrayPoolPairs(_sizes);
        else
            ArrayPoolRounds(_sizes, _arrays);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GcNew()
    {
        if (Held == 1)
            GcPairs(_sizes, _arrays);
        else
            GcRounds(_sizes, _arrays);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void NativePairs(int[] sizes)
    {
        for (int i = 0; i < sizes.Length; i++)
        {
            int size = sizes[i];
            byte* p = (byte*)NativeMemory.Alloc((nuint)size);
            p[0] = 1;
            p[size - 1] = 2;
            NativeMemory.Free(p);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void NativeRounds(int[] sizes, nint[] ptrs)
    {
        for (int start = 0; start < sizes.Length; start += ptrs.Length)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                int size = sizes[start + i];
                byte* p = (byte*)NativeMemory.Alloc((nuint)size);
                p[0] = 1;
                p[size - 1] = 2;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                NativeMemory.Free((void*)ptrs[i]);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void KmallocPairs(int[] sizes)
    {
        for (int i = 0; i < sizes.Length; i++)
        {
            int size = sizes[i];
            byte* p = (byte*)Kmalloc.Alloc((nuint)size);
            p[0] = 1;
            p[size - 1] = 2;
            Kmalloc.Free(p);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void KmallocRounds(int[] sizes, nint[] ptrs)
    {
        for (int start = 0; start < sizes.Length; start += ptrs.Length)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                int size = sizes[start + i];
                byte* p = (byte*)Kmalloc.Alloc((nuint)size);
                p[0] = 1;
                p[size - 1] = 2;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                Kmalloc.Free((void*)ptrs[i]);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void KmallocLocalPairs(int[] sizes)
    {
        KmallocLocal kmalloc = Kmalloc.Local();
        for (int i = 0; i < sizes.Length; i++)
        {
            int size = sizes[i];
            byte* p = (byte*)kmalloc.Alloc((nuint)size);
            p[0] = 1;
            p[size - 1] = 2;
            kmalloc.Free(p, (nuint)size);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void KmallocLocalRounds(int[] sizes, nint[] ptrs)
    {
        KmallocLocal kmalloc = Kmalloc.Local();
        for (int start = 0; start < sizes.Length; start += ptrs.Length)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                int size = sizes[start + i];
                byte* p = (byte*)kmalloc.Alloc((nuint)size);
                p[0] = 1;
                p[size - 1] = 2;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                kmalloc.Free((void*)ptrs[i], (nuint)sizes[start + i]);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ArrayPoolPairs(int[] sizes)
    {
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int i = 0; i < sizes.Length; i++)
        {
            int size = sizes[i];
            byte[] a = pool.Rent(size);
            a[0] = 1;
            a[size - 1] = 2;
            pool.Return(a);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ArrayPoolRounds(int[] sizes, byte[][] arrays)
    {
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int start = 0; start < sizes.Length; start += arrays.Length)
        {
            for (int i = 0; i < arrays.Length; i++)
            {
                int size = sizes[start + i];
                byte[] a = pool.Rent(size);
                a[0] = 1;
                a[size - 1] = 2;
                arrays[i] = a;
            }
            for (int i = 0; i < arrays.Length; i++)
            {
                pool.Return(arrays[i]);
                arrays[i] = null!;
            }
        }
    }

    /// <summary>Plain <c>new byte[size]</c>; each array escapes to <paramref name="sink"/> so it is not stack-allocated.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GcPairs(int[] sizes, byte[][] sink)
    {
        for (int i = 0; i < sizes.Length; i++)
        {
            int size = sizes[i];
            byte[] a = new byte[size];
            a[0] = 1;
            a[size - 1] = 2;
            sink[0] = a;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GcRounds(int[] sizes, byte[][] arrays)
    {
        for (int start = 0; start < sizes.Length; start += arrays.Length)
        {
            for (int i = 0; i < arrays.Length; i++)
            {
                int size = sizes[start + i];
                byte[] a = new byte[size];
                a[0] = 1;
                a[size - 1] = 2;
                arrays[i] = a;
            }
            for (int i = 0; i < arrays.Length; i++)
                arrays[i] = null!;
        }
    }
}
