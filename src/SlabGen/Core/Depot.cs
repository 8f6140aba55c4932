using System;
using System.Runtime.InteropServices;

namespace SlabGen.Core;

/// <summary>
/// Purpose: a node's depot of full magazines (Bonwick 2001's magazine depot; Linux 7.0 calls it the node's barn of
/// full sheaves, <c>struct node_barn</c>): up to <see cref="MaxFull"/> full magazines' worth of objects that thread
/// magazines trade whole. A thread whose magazine is full hands all of it to the depot; one whose magazine is empty
/// takes a full one back. A burst of frees and then of allocations (or a producer and a consumer on different threads)
/// thus moves one magazine's worth of objects per lock and never reaches the per-CPU arrays or the slab lists. Lives in
/// native memory, 64-byte aligned, with the full magazines' entries right after the 64-byte header, under its node's
/// <see cref="KmemCacheNode.DepotLock"/>.
/// </summary>
/// <remarks>
/// The per-thread layer is Bonwick's magazine (the kernel has no per-thread layer; its sheaves are per CPU), so its
/// store is Bonwick's depot, in his words throughout.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal unsafe struct Depot
{
    /// <summary>Full magazines a depot holds at most (Linux 7.0's <c>MAX_FULL_SHEAVES</c>).</summary>
    public const int MaxFull = 10;

    /// <summary>Full magazines held, the newest last.</summary>
    public int NrFull;

    /// <summary>Objects per magazine: the limit of the magazines that trade with this depot.</summary>
    public int Capacity;

    /// <summary>Set by every exchange; the reaper drains a depot only when it finds this clear.</summary>
    public int Touched;

    /// <summary>Full magazine <paramref name="i"/> (0 is the oldest), <see cref="Capacity"/> entries.</summary>
    public static void** Full(Depot* d, int i) => (void**)(d + 1) + (nint)i * d->Capacity;

    /// <summary>Objects held in full magazines.</summary>
    public static long Objects(Depot* d) => (long)d->NrFull * d->Capacity;

    /// <summary>Allocates an empty depot (<c>barn_init</c>); null when memory (or an injected failure) says no.</summary>
    public static Depot* Create(int capacity)
    {
        if (FaultInjection.ShouldFail())
            return null;
        nuint bytes = (nuint)sizeof(Depot) + (nuint)MaxFull * (nuint)capacity * (nuint)sizeof(void*);
        Depot* b;
        try
        {
            b = (Depot*)NativeMemory.AlignedAlloc(bytes, 64);
        }
        catch (OutOfMemoryException)
        {
            return null;
        }
        *b = default;
        b->Capacity = capacity;
        return b;
    }

    public static void Destroy(Depot* b)
    {
        if (b != null)
            NativeMemory.AlignedFree(b);
    }
}
