using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// A <see cref="Pipe"/> on each pool: the writer writes one message (stamped) and flushes, the reader reads it,
/// checks the stamp and consumes it, on one thread, so the pipe rents a 4 KiB block whenever a message does not fit
/// the current one and returns it once read. Reported per message; <c>[MemoryDiagnoser]</c> gives the managed bytes
/// allocated per message. Peers: <see cref="SlabMemoryPool"/>, <see cref="MemoryPool{T}.Shared"/> (for which the
/// pipe rents from <c>ArrayPool&lt;byte&gt;.Shared</c> directly, with no owner object), a pinned-block pool built as Kestrel's
/// <c>PinnedBlockMemoryPool</c> (a <c>ConcurrentQueue</c> of blocks over pinned-object-heap arrays), the floor of any pool
/// (<see cref="FloorBlockPool"/>: one block handed out again and again, no bookkeeping), and as the baseline a pool
/// that calls <c>NativeMemory.Alloc</c>/<c>Free</c> with a new owner per rent.
/// </summary>
[BenchmarkCategory("pipe")]
[MemoryDiagnoser]
public unsafe class PipeBenchmarks
{
    public const int Ops = 4096;
    private const int BlockSize = 4096;

    private SlabMemoryPool _slab = null!;
    private Infrastructure.PinnedBlockPool _pinned = null!;
    private NativeBlockPool _native = null!;
    private FloorBlockPool _floor = null!;
    private Pipe _slabPipe = null!, _sharedPipe = null!, _pinnedPipe = null!, _nativePipe = null!, _floorPipe = null!;

    /// <summary>Bytes per message: 256 fills a block in 16 messages; 4,000 needs a block for every message.</summary>
    [Params(256, 4000)]
    public int MessageSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _slab = new SlabMemoryPool(new SlabMemoryPoolOptions { Name = $"bench_pipe_{MessageSize}" });
        _pinned = new Infrastructure.PinnedBlockPool(BlockSize);
        _native = new NativeBlockPool(BlockSize);
        _floor = new FloorBlockPool(BlockSize);
        _slabPipe = NewPipe(_slab);
        _sharedPipe = NewPipe(MemoryPool<byte>.Shared);
        _pinnedPipe = NewPipe(_pinned);
        _nativePipe = NewPipe(_native);
        _floorPipe = NewPipe(_floor);
        // Steady state before the first measured iteration: each pipe runs long enough for the tiered JIT to compile
        // its path (the pool's Rent and Dispose, MemoryManager.GetSpan) at tier 1, which the quick job's three short
        // warm-up iterations did not always reach for the first scenario of the run.
        for (int round = 0; round < 3; round++)
        {
            foreach (Pipe pipe in new[] { _slabPipe, _sharedPipe, _pinnedPipe, _nativePipe, _floorPipe })
            {
                for (int i = 0; i < 40; i++)
                    Run(pipe);
            }
            System.Threading.Thread.Sleep(150);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (Pipe pipe in new[] { _slabPipe, _sharedPipe, _pinnedPipe, _nativePipe, _floorPipe })
        {
            pipe.Writer.Complete();
            pipe.Reader.Complete();
        }
        Console.WriteLine($"// {_slab.Name}: {_slab.Cache.GetStatistics().Allocations:N0} blocks rented, {_slab.Owners} owners, {_slab.Rented} still rented");
        _slab.Dispose();
        _pinned.Dispose();
        _floor.Dispose();
    }

    private static Pipe NewPipe(MemoryPool<byte> pool)
        => new(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.Inline, pauseWriterThreshold: 0,
            resumeWriterThreshold: 0, minimumSegmentSize: BlockSize, useSynchronizationContext: false));

    /// <summary>Writes, flushes, reads and consumes <see cref="Ops"/> messages; every flush and read completes at once.</summary>
    private void Run(Pipe pipe)
    {
        PipeWriter writer = pipe.Writer;
        PipeReader reader = pipe.Reader;
        int size = MessageSize;
        for (int i = 0; i < Ops; i++)
        {
            Span<byte> span = writer.GetSpan(size);
            MemoryMarshal.Write(span, in i);
            span[size - 1] = (byte)i;
            writer.Advance(size);
            ValueTask<FlushResult> flush = writer.FlushAsync();
            if (!flush.IsCompletedSuccessfully)
                throw new InvalidOperationException("a flush did not complete at once");
            if (!reader.TryRead(out ReadResult result) || result.Buffer.Length != size)
                throw new InvalidOperationException("the message was not readable at once");
            ReadOnlySequence<byte> buffer = result.Buffer;
            int stamp = buffer.FirstSpan.Length >= sizeof(int) ? MemoryMarshal.Read<int>(buffer.FirstSpan) : -1;
            if (stamp != i)
                throw new InvalidOperationException($"message {i} read back as {stamp}");
            reader.AdvanceTo(buffer.End);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree() => Run(_nativePipe);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenMemoryPool() => Run(_slabPipe);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void MemoryPoolShared() => Run(_sharedPipe);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void PinnedBlockPool() => Run(_pinnedPipe);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void PoolFloor() => Run(_floorPipe);
}
