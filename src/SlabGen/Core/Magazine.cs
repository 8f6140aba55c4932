using System.Runtime.InteropServices;
using System.Threading;
using SlabGen.Policy;

namespace SlabGen.Core;

/// <summary>
/// A per-thread magazine (Bonwick 2001) in front of the per-CPU array caches: the only layer a user-space thread
/// can touch without an atomic instruction. Its owner's fast path pops and pushes with plain loads and stores and
/// writes nothing but the top entry, its object's free pointer and <see cref="Count"/>; its slow paths, which move
/// many entries, announce themselves in <see cref="InUse"/>. A stealer (Tune, Shrink, reaping, destroy) sets
/// <see cref="LockedBit"/> in <see cref="Tag"/>, issues a process-wide memory barrier, waits for <see cref="InUse"/> to
/// read 0 (an asymmetric Dekker handshake with the slow paths) and reads <see cref="Count"/> once
/// (<see cref="StolenCount"/>): it works from that view only.
/// </summary>
/// <remarks>
/// One fast-path operation may still be running: it read the tag before the barrier. A free in flight writes above
/// the stealer's view, so nothing of it is taken. An allocation in flight stores <see cref="Count"/> and then reads
/// the tag again (the same Dekker pair, against the stealer's barrier): either the stealer's view already shows the
/// pop, or the allocation sees the lock, waits for the stealer to finish and, if the stealer took the object it
/// popped (only destroy takes a live owner's top entry), undoes the pop. So the stealer may take every entry of its
/// view; Shrink, Tune and the reaper still leave each live owner's top entry, so that its next allocation needs no
/// slow path, and retire the magazine (<see cref="RetiredBit"/>): the owner gives the rest back and makes a new
/// magazine the next time it looks.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal unsafe struct Magazine
{
    /// <summary>In <see cref="Tag"/> while a stealer works on the magazine: its owner goes around it.</summary>
    public const int LockedBit = 1 << 30;

    /// <summary>In <see cref="Tag"/> once a stealer is done: the owner gives back what is left and replaces it.</summary>
    public const int RetiredBit = 1 << 29;

    /// <summary>The largest cache tag: tags leave <see cref="LockedBit"/> and <see cref="RetiredBit"/> clear.</summary>
    public const int MaxTag = RetiredBit - 1;

    /// <summary>1 while the owner thread is inside a slow path on this magazine.</summary>
    public int InUse;

    /// <summary>
    /// The owning cache's tag; with <see cref="LockedBit"/> while stolen, with <see cref="RetiredBit"/> once stolen;
    /// 0 once dead (its cache destroyed, its objects gone with the slabs).
    /// </summary>
    public int Tag;

    /// <summary>
    /// <see cref="Avail"/> in the low <see cref="AvailBits"/> bits and the allocations this magazine served (its
    /// allochit, modulo 2^48) above them: one word, so that the allocation fast path pops and counts with one store
    /// (<see cref="OneAlloc"/>). A separate counter cost the hot pair a second read-modify-write chain through memory.
    /// </summary>
    public long Count;

    public int Limit;

    /// <summary>
    /// Entries below this were taken by a stealer, which leaves the top entry to the owner's operation that may be in
    /// flight. 0 until the magazine is retired.
    /// </summary>
    public int Taken;

    /// <summary>Bits of <see cref="Count"/> that hold <see cref="Avail"/>: room for <see cref="Tunables.MaxLimit"/>.</summary>
    public const int AvailBits = 16;

    public const long AvailMask = (1L << AvailBits) - 1;

    /// <summary>Added to <see cref="Count"/> by an allocation the magazine serves: one hit more, one object fewer.</summary>
    public const long OneAlloc = (1L << AvailBits) - 1;

    /// <summary>Objects in the magazine, <c>ac->avail</c>.</summary>
    public int Avail
    {
        readonly get => AvailOf(Count);
        set => Count = (Count & ~AvailMask) | (long)value;
    }

    /// <summary>The <see cref="Avail"/> a <see cref="Count"/> value holds.</summary>
    public static int AvailOf(long count) => (int)(count & AvailMask);

    /// <summary>Allocations served by this magazine; the only counter the fast path keeps.</summary>
    public static long AllocHit(long count) => (long)((ulong)count >> AvailBits);

    /// <summary>Objects the slow paths moved in (refills, and the object of a free that flushed).</summary>
    public long In;

    /// <summary>Objects moved out by flushes and stealers.</summary>
    public long Out;

    /// <summary><see cref="AllocHit"/> + <see cref="FreeHit"/> at the last reap pass: unchanged means untouched.</summary>
    public long SeenOps;

    /// <summary>
    /// The <see cref="Count"/> the last stealer read after its barrier, the one view it worked from; written before it
    /// clears <see cref="LockedBit"/>. An allocation that raced it compares its own count with this view.
    /// </summary>
    public long StolenCount;

    /// <summary>
    /// Frees served by this magazine, derived rather than counted so the free fast path stores nothing extra:
    /// every fast free adds one to <see cref="Avail"/>, and every other change of it is counted.
    /// </summary>
    public static long FreeHit(Magazine* m)
    {
        long count = Volatile.Read(ref m->Count);
        return AllocHit(count) + AvailOf(count) - m->In + m->Out;
    }

    /// <summary>Objects the magazine still holds: all of <see cref="Avail"/> until a stealer takes some.</summary>
    public static int Held(Magazine* m) => AvailOf(Volatile.Read(ref m->Count)) - m->Taken;

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
    /// The magazine a thread with no table yet stands for (<see cref="ThreadMagazines.Entry"/>): dead (tag 0) and
    /// holding nothing. Each table has one of its own in front of its first entry, which its empty entries name.
    /// Never stolen or freed.
    /// </summary>
    public static readonly Magazine* None = Create(0, 0);

    /// <summary>
    /// The magazine an entry of <paramref name="table"/> names. Entries hold the magazine's address minus the
    /// address of the table's own dead header (<see cref="ThreadMagazines.HeaderBytes"/> before its first entry), so
    /// an entry nobody wrote (0, as fresh pages of a table read) names that header, whose tag no cache has: a table
    /// needs no filling, only the pages that hold its caches' entries are ever backed, and the fast path adds a
    /// register it already holds rather than a static's value (a class-initialization check per use under Native AOT).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static Magazine* FromEntry(nint* table, nint entry) => (Magazine*)((byte*)table - ThreadMagazines.HeaderBytes + entry);

    /// <summary>The entry of <paramref name="table"/> that names <paramref name="m"/>.</summary>
    public static nint ToEntry(nint* table, Magazine* m) => (nint)m - (nint)((byte*)table - ThreadMagazines.HeaderBytes);
}
