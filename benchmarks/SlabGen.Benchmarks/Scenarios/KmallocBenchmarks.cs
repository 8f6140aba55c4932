using System;
using System.Buffers;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// Allocations of random sizes, uniform in 8..1,024 bytes (a fixed seed, the same sequence for every peer): either
/// freed at once (Held = 1) or held 1,024 at a time and then freed. Each block is written at both ends. Reported per
/// alloc+free pair.
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
        // Touch every kmalloc cache once so no size class is created inside a measured invocation.
        for (int i = 0; i < _sizes.Length; i++)
            Kmalloc.Free(Kmalloc.Alloc((nuint)_sizes[i]));
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree()
    {
        int[] sizes = _sizes;
        nint[] ptrs = _ptrs;
        for (int start = 0; start < Ops; start += ptrs.Length)
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

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenKmalloc()
    {
        int[] sizes = _sizes;
        nint[] ptrs = _ptrs;
        for (int start = 0; start < Ops; start += ptrs.Length)
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

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ArrayPoolShared()
    {
        int[] sizes = _sizes;
        byte[][] arrays = _arrays;
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int start = 0; start < Ops; start += arrays.Length)
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

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GcNew()
    {
        int[] sizes = _sizes;
        byte[][] arrays = _arrays;
        for (int start = 0; start < Ops; start += arrays.Length)
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
