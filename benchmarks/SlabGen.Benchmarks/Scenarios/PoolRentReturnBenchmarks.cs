using System;
using System.Buffers;
using BenchmarkDotNet.Attributes;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// What a pipe pays per block, without the pipe: rent a 4 KiB block, write its first byte through
/// <c>Memory.Span</c>, return it. Peers: <see cref="SlabMemoryPool"/>, <c>ArrayPool&lt;byte&gt;.Shared</c> (what a pipe
/// on <see cref="MemoryPool{T}.Shared"/> uses), a pinned-block pool built as Kestrel's, and as the baseline a pool
/// that calls <c>NativeMemory.Alloc</c>/<c>Free</c> with a new owner per rent.
/// </summary>
[BenchmarkCategory("pipe")]
[MemoryDiagnoser]
public class PoolRentReturnBenchmarks
{
    public const int Ops = 4096;
    private const int BlockSize = 4096;

    private SlabMemoryPool _slab = null!;
    private Infrastructure.PinnedBlockPool _pinned = null!;
    private NativeBlockPool _native = null!;

    [GlobalSetup]
    public void Setup()
    {
        _slab = new SlabMemoryPool();
        _pinned = new Infrastructure.PinnedBlockPool(BlockSize);
        _native = new NativeBlockPool(BlockSize);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _slab.Dispose();
        _pinned.Dispose();
    }

    private static void Run(MemoryPool<byte> pool)
    {
        for (int i = 0; i < Ops; i++)
        {
            IMemoryOwner<byte> owner = pool.Rent(BlockSize);
            owner.Memory.Span[0] = (byte)i;
            owner.Dispose();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree() => Run(_native);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenMemoryPool() => Run(_slab);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ArrayPoolShared()
    {
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int i = 0; i < Ops; i++)
        {
            byte[] array = pool.Rent(BlockSize);
            array[0] = (byte)i;
            pool.Return(array);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void PinnedBlockPool() => Run(_pinned);
}
