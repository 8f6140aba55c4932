using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// A bounded single-producer/single-consumer ring: the producer and the consumer each own one index, on its own cache
/// line, and each keeps a private copy of the other's so it rarely has to read the shared one. No allocation, no
/// interlocked operation: what is measured is the allocator's cross-thread free, not the queue.
/// </summary>
public sealed class SpscRing<T>
{
    private readonly T[] _items;
    private readonly int _mask;
    private PaddedIndex _head;      // next slot the consumer reads; written by the consumer
    private PaddedIndex _tail;      // next slot the producer writes; written by the producer
    private PaddedIndex _headCache; // the producer's copy of _head
    private PaddedIndex _tailCache; // the consumer's copy of _tail

    public SpscRing(int capacityPowerOfTwo)
    {
        _items = new T[capacityPowerOfTwo];
        _mask = capacityPowerOfTwo - 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enqueue(T item)
    {
        long tail = _tail.Value;
        if (tail - _headCache.Value > _mask)
        {
            var spin = new SpinWait();
            while (tail - (_headCache.Value = Volatile.Read(ref _head.Value)) > _mask)
                spin.SpinOnce(sleep1Threshold: -1);
        }
        _items[tail & _mask] = item;
        Volatile.Write(ref _tail.Value, tail + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Dequeue()
    {
        long head = _head.Value;
        if (head >= _tailCache.Value)
        {
            var spin = new SpinWait();
            while (head >= (_tailCache.Value = Volatile.Read(ref _tail.Value)))
                spin.SpinOnce(sleep1Threshold: -1);
        }
        T item = _items[head & _mask];
        _items[head & _mask] = default!;
        Volatile.Write(ref _head.Value, head + 1);
        return item;
    }
}

/// <summary>An index alone on its 128-byte span (two cache lines: adjacent-line prefetch).</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedIndex
{
    [FieldOffset(64)]
    public long Value;
}
