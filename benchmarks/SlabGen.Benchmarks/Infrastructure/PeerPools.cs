using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>Kestrel's <c>PinnedBlockMemoryPool</c>, reduced to its mechanism: pinned-object-heap arrays in a <see cref="ConcurrentQueue{T}"/>.</summary>
internal sealed class PinnedBlockPool(int blockSize) : MemoryPool<byte>
{
    private readonly ConcurrentQueue<Block> _blocks = new();

    public override int MaxBufferSize => blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > blockSize)
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"the pinned-block pool serves at most {blockSize} bytes");
        return _blocks.TryDequeue(out Block? block) ? block : new Block(this);
    }

    protected override void Dispose(bool disposing) => _blocks.Clear();

    private sealed class Block(PinnedBlockPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(pool.MaxBufferSize, pinned: true), 0, pool.MaxBufferSize);

        public void Dispose() => pool._blocks.Enqueue(this);
    }
}

/// <summary>The plain way to put a pipe on native memory: <c>NativeMemory.Alloc</c> per rent, a new owner each time.</summary>
internal sealed unsafe class NativeBlockPool(int blockSize) : MemoryPool<byte>
{
    public override int MaxBufferSize => blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > blockSize)
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"the native pool serves at most {blockSize} bytes");
        return new Block((byte*)NativeMemory.Alloc((nuint)blockSize), blockSize);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(byte* memory, int length) : MemoryManager<byte>
    {
        private byte* _memory = memory;

        public override Span<byte> GetSpan() => new(_memory, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_memory + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
            NativeMemory.Free(_memory);
            _memory = null;
        }
    }
}

/// <summary>
/// The least a <see cref="MemoryPool{T}"/> can do for a pipe: one owner over one native block, handed out by every
/// rent and taken back by every return, with no lease, no quarantine and no thread-local lookup. It serves one block at
/// a time (a second rent while the block is out throws), which is all a pipe whose reader consumes each message before
/// the next is written ever holds. What a pipe costs on any pool, with the pool's own work taken away: the scale for
/// the other pools' rows, not a pool anyone could use.
/// </summary>
internal sealed unsafe class FloorBlockPool(int blockSize) : MemoryPool<byte>
{
    private readonly Block _block = new(blockSize);

    public override int MaxBufferSize => blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > blockSize)
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"the floor pool serves at most {blockSize} bytes");
        if (_block.Out)
            throw new InvalidOperationException("the floor pool has one block, and it is rented");
        _block.Out = true;
        return _block;
    }

    protected override void Dispose(bool disposing) => _block.Release();

    private sealed class Block(int length) : MemoryManager<byte>
    {
        private byte* _memory = (byte*)NativeMemory.AlignedAlloc((nuint)length, 4096);

        public bool Out;

        public override Span<byte> GetSpan() => new(_memory, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(_memory + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing) => Out = false;

        public void Release()
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
        }
    }
}
