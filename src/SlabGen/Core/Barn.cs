using System;
using System.Runtime.InteropServices;

namespace SlabGen.Core;

/// <summary>
/// A node's barn (Linux 7.0's <c>struct node_barn</c>, Bonwick's magazine depot): up to
/// <see cref="MaxFullSheaves"/> full sheaves that thread magazines trade whole. A thread whose magazine is full hands
/// all of it to the barn; one whose magazine is empty takes a full sheaf back. A burst of frees and then of
/// allocations (or a producer and a consumer on different threads) thus moves one magazine's worth of objects per
/// lock and never reaches the per-CPU arrays or the slab lists. Lives in native memory, 64-byte aligned, with the
/// sheaves right after the 64-byte header, under its node's <see cref="KmemCacheNode.BarnLock"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal unsafe struct Barn
{
    /// <summary><c>MAX_FULL_SHEAVES</c>.</summary>
    public const int MaxFullSheaves = 10;

    /// <summary>Full sheaves held, the newest last.</summary>
    public int NrFull;

    /// <summary>Objects per sheaf: the limit of the magazines that trade with this barn.</summary>
    public int Capacity;

    /// <summary>Set by every exchange; the reaper drains a barn only when it finds this clear.</summary>
    public int Touched;

    /// <summary>Sheaf <paramref name="i"/> (0 is the oldest), <see cref="Capacity"/> entries.</summary>
    public static void** Sheaf(Barn* b, int i) => (void**)(b + 1) + (nint)i * b->Capacity;

    /// <summary>Objects held in full sheaves.</summary>
    public static long Objects(Barn* b) => (long)b->NrFull * b->Capacity;

    /// <summary>Allocates an empty barn (<c>barn_init</c>); null when memory (or an injected failure) says no.</summary>
    public static Barn* Create(int capacity)
    {
        if (FaultInjection.ShouldFail())
            return null;
        nuint bytes = (nuint)sizeof(Barn) + (nuint)MaxFullSheaves * (nuint)capacity * (nuint)sizeof(void*);
        Barn* b;
        try
        {
            b = (Barn*)NativeMemory.AlignedAlloc(bytes, 64);
        }
        catch (OutOfMemoryException)
        {
            return null;
        }
        *b = default;
        b->Capacity = capacity;
        return b;
    }

    public static void Destroy(Barn* b)
    {
        if (b != null)
            NativeMemory.AlignedFree(b);
    }
}
