using System.Collections.Concurrent;

namespace SlabGen;

/// <summary>
/// The side object of one <see cref="SlabHandle{T}"/> lease: where the object is and which lease holds it. Boxes are
/// pooled per <typeparamref name="T"/> (a few per thread, the rest in a shared queue), so renting a handle allocates
/// no managed memory once the pool has warmed up.
/// </summary>
internal sealed unsafe class SlabBox<T> where T : unmanaged
{
    private const int LocalBoxes = 32;

    [System.ThreadStatic]
    private static LocalStack? t_local;

    private static readonly ConcurrentQueue<SlabBox<T>> s_shared = new();

    /// <summary>The object while leased; null between leases.</summary>
    internal T* Object;

    /// <summary>Leases started and ended: odd while the object is allocated. A handle holds the odd value of its lease.</summary>
    internal long Lease;

    /// <summary>A box from this thread's stack, the shared queue, or a new one.</summary>
    internal static SlabBox<T> Take()
    {
        LocalStack? local = t_local;
        if (local != null && local.Count > 0)
            return local.Boxes[--local.Count]!;
        return s_shared.TryDequeue(out SlabBox<T>? box) ? box : new SlabBox<T>();
    }

    /// <summary>Keeps a box whose lease ended for the next <see cref="Take"/>.</summary>
    internal static void Give(SlabBox<T> box)
    {
        LocalStack local = t_local ??= new LocalStack();
        if (local.Count < LocalBoxes)
            local.Boxes[local.Count++] = box;
        else
            s_shared.Enqueue(box);
    }

    /// <summary>One thread's boxes: one thread-local read finds the array and its count.</summary>
    private sealed class LocalStack
    {
        public readonly SlabBox<T>?[] Boxes = new SlabBox<T>?[LocalBoxes];
        public int Count;
    }
}
