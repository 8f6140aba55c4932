using System;
using System.Runtime.InteropServices;

namespace SlabGen.Core;

/// <summary>
/// The kernel's <c>struct array_cache</c>: a LIFO stack of free object pointers, used per CPU and as each node's
/// shared array. Lives in native memory, 64-byte aligned, with the entries right after the 64-byte header.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal unsafe struct ArrayCache
{
    /// <summary>
    /// The batch count of a node's shared array, which is never refilled or flushed by batch of its own (the kernel
    /// passes <c>0xbaadf00d</c> to <c>alloc_arraycache</c> for it): a value nobody uses, that shows in a dump.
    /// </summary>
    public const int SharedBatchCount = 0xbaadf00;

    /// <summary>
    /// The share of an untouched array a reap pass gives back: <c>(limit + 4) / 5</c> (<c>drain_array_locked</c>), or half
    /// of what it holds when that is less.
    /// </summary>
    public static int ReapShare(int limit, int avail)
    {
        int toFree = (limit + 4) / 5;
        return toFree > avail ? (avail + 1) / 2 : toFree;
    }

    public int Avail;
    public int Limit;
    public int BatchCount;
    public int Touched;

    /// <summary>The entries, <see cref="Limit"/> of them, most recently freed last.</summary>
    public static void** Entry(ArrayCache* ac) => (void**)(ac + 1);

    /// <summary>Allocates an empty array (<c>alloc_arraycache</c>); null when memory (or an injected failure) says no.</summary>
    public static ArrayCache* Create(int entries, int batchCount)
    {
        if (FaultInjection.ShouldFail())
            return null;
        nuint bytes = (nuint)sizeof(ArrayCache) + (nuint)entries * (nuint)sizeof(void*);
        ArrayCache* ac;
        try
        {
            ac = (ArrayCache*)NativeMemory.AlignedAlloc(bytes, 64);
        }
        catch (OutOfMemoryException)
        {
            return null;
        }
        ac->Avail = 0;
        ac->Limit = entries;
        ac->BatchCount = batchCount;
        ac->Touched = 0;
        return ac;
    }

    public static void Destroy(ArrayCache* ac)
    {
        if (ac != null)
            NativeMemory.AlignedFree(ac);
    }

    /// <summary>Moves up to <paramref name="max"/> objects from the top of <paramref name="from"/> to <paramref name="to"/> (<c>transfer_objects</c>).</summary>
    public static int Transfer(ArrayCache* to, ArrayCache* from, int max)
    {
        int nr = Math.Min(Math.Min(from->Avail, max), to->Limit - to->Avail);
        if (nr <= 0)
            return 0;
        new ReadOnlySpan<nint>(Entry(from) + from->Avail - nr, nr).CopyTo(new Span<nint>(Entry(to) + to->Avail, nr));
        from->Avail -= nr;
        to->Avail += nr;
        return nr;
    }

    /// <summary>Drops the <paramref name="count"/> oldest entries (the bottom of the stack), moving the rest down.</summary>
    public static void RemoveOldest(void** entries, ref int avail, int count)
    {
        avail -= count;
        new ReadOnlySpan<nint>(entries + count, avail).CopyTo(new Span<nint>(entries, avail));
    }
}
