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
