using System.Runtime.InteropServices;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// A per-thread magazine (Bonwick 2001) in front of the per-CPU array caches: the only layer a user-space thread
/// can touch without an atomic instruction. Its owner pops and pushes with plain loads and stores; a stealer
/// (Tune, Shrink, reaping, destroy) takes it with an asymmetric Dekker handshake: it sets
/// <see cref="LockedBit"/> in <see cref="Tag"/>, issues a process-wide memory barrier, then waits for
/// <see cref="InUse"/> to read 0. The owner writes <see cref="InUse"/> before it reads <see cref="Tag"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal unsafe struct Magazine
{
    public const int LockedBit = 1 << 30;

    /// <summary>1 while the owner thread is inside an operation on this magazine.</summary>
    public int InUse;

    /// <summary>The owning cache's tag; with <see cref="LockedBit"/> while stolen; 0 once retired (dead).</summary>
    public int Tag;

    /// <summary>
    /// <see cref="Avail"/> in the low <see cref="AvailBits"/> bits and the allocations this magazine served (its
    /// allochit, modulo 2^48) above them: one word, so that the allocation fast path pops and counts with one store
    /// (<see cref="OneAlloc"/>). A separate counter cost the hot pair a second read-modify-write chain through memory.
    /// </summary>
    public long Count;

    public int Limit;

    /// <summary>Bits of <see cref="Count"/> that hold <see cref="Avail"/>: room for <see cref="Tunables.MaxLimit"/>.</summary>
    public const int AvailBits = 16;

    public const long AvailMask = (1L << AvailBits) - 1;

    /// <summary>Added to <see cref="Count"/> by an allocation the magazine serves: one hit more, one object fewer.</summary>
    public const long OneAlloc = (1L << AvailBits) - 1;

    /// <summary>Objects in the magazine, <c>ac->avail</c>.</summary>
    public int Avail
    {
        readonly get => (int)(Count & AvailMask);
        set => Count = (Count & ~AvailMask) | (long)value;
    }

    /// <summary>Allocations served by this magazine; the only counter the fast path keeps.</summary>
    public static long AllocHit(long count) => (long)((ulong)count >> AvailBits);

    /// <summary>Objects the slow paths moved in (refills, and the object of a free that flushed).</summary>
    public long In;

    /// <summary>Objects moved out by flushes and stealers.</summary>
    public long Out;

    /// <summary><see cref="AllocHit"/> + <see cref="FreeHit"/> at the last reap pass: unchanged means untouched.</summary>
    public long SeenOps;

    /// <summary>
    /// Frees served by this magazine, derived rather than counted so the free fast path stores nothing extra:
    /// every fast free adds one to <see cref="Avail"/>, and every other change of it is counted.
    /// </summary>
    public static long FreeHit(Magazine* m)
    {
        long count = Volatile.Read(ref m->Count);
        return AllocHit(count) + (count & AvailMask) - m->In + m->Out;
    }

    /// <summary>The entries (<see cref="Limit"/> of them) follow the 64-byte header.</summary>
    public static void** Entry(Magazine* m) => (void**)(m + 1);

    public static Magazine* Create(int tag, int limit)
    {
        var m = (Magazine*)NativeMemory.AlignedAlloc((nuint)(sizeof(Magazine) + limit * sizeof(void*)), 64);
        *m = default;
        m->Tag = tag;
        m->Limit = limit;
        return m;
    }

    public static void Destroy(Magazine* m) => NativeMemory.AlignedFree(m);

    /// <summary>
    /// The magazine every empty table entry points at: dead (tag 0) and holding nothing, so a fast path that finds
    /// it fails its tag check and takes the slow path, with no null check of its own. Never stolen or freed.
    /// </summary>
    public static readonly Magazine* None = Create(0, 0);
}
