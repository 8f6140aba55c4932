using System;
using System.Runtime.CompilerServices;
using System.Threading;
using SlabGen.PageAlloc;

namespace SlabGen.Core;

/// <summary>
/// The part of a cache that the inlined fast paths read: which magazine is ours (slot and tag) and how to tell an
/// object of ours from any other pointer without touching memory that may be unmapped. Immutable, so the typed
/// and untyped faces of a cache each hold a copy and pay no extra indirection.
/// </summary>
internal readonly unsafe struct FastPath
{
    public readonly int Slot;
    public readonly int Tag;
    private readonly nuint _slabMask;

    /// <summary>floor(2^64 / size) + 1: an offset times this is small exactly at slot boundaries (see <see cref="IsObjectInOwnArena"/>).</summary>
    private readonly ulong _multiplier;

    /// <summary>objects × (size − 2^64 mod size): the products of the slab's object offsets all fall below it.</summary>
    private readonly ulong _threshold;

    public FastPath(int slot, int tag, in SlabLayout layout)
    {
        Slot = slot;
        Tag = tag;
        _slabMask = (nuint)layout.SlabBytes - 1;
        UInt128 twoTo64 = (UInt128)1 << 64;
        ulong size = (ulong)layout.Size;
        _multiplier = (ulong)(twoTo64 / size) + 1;
        _threshold = (ulong)layout.ObjectsPerSlab * (size - (ulong)(twoTo64 % size));
    }

    /// <summary>
    /// A fast path no object belongs to: <see cref="IsObjectInOwnArena"/> is false for every offset (its slabs hold
    /// no objects). Tables use it where they would otherwise hold null.
    /// </summary>
    public static readonly FastPath Never = default;

    /// <summary>Pops an object from this thread's magazine (<c>____cache_alloc</c>'s <c>ac->entry[--ac->avail]</c>), or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* TryAlloc() => TryAlloc(ThreadMagazines.t_table);

    /// <summary>
    /// <see cref="TryAlloc()"/> with this thread's magazine table already read. Like the free below, it reads the tag
    /// and then touches only the top entry and <see cref="Magazine.Count"/>: that is all a stealer has to leave alone
    /// for an operation that may be in flight (see <see cref="Magazine"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* TryAlloc(Magazine** table)
    {
        if (table != null)
        {
            Magazine* m = table[Slot]; // Magazine.None, not null, when this thread has none
            if (Volatile.Read(ref m->Tag) == Tag)
            {
                long count = m->Count;
                int n = Magazine.AvailOf(count) - 1;
                if (n >= 0)
                {
                    void* obj = Magazine.Entry(m)[n];
                    m->Count = count + Magazine.OneAlloc;
                    return obj;
                }
            }
        }
        return null;
    }

    /// <summary>Pushes a checked object onto this thread's magazine (<c>__cache_free</c>'s fast case); false when it is full or absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryFree(void* obj) => TryFree(ThreadMagazines.t_table, obj);

    /// <summary><see cref="TryFree(void*)"/> with this thread's magazine table already read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryFree(Magazine** table, void* obj) => TryFree(table, Slot, obj);

    /// <summary>
    /// <see cref="TryFree(Magazine**, void*)"/> with the slot given by the caller, who read it from the owner table:
    /// the magazine's address then waits on one load after <paramref name="obj"/> rather than on this struct's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryFree(Magazine** table, int slot, void* obj)
    {
        if (table != null)
        {
            Magazine* m = table[slot]; // Magazine.None, not null, when this thread has none
            if (Volatile.Read(ref m->Tag) == Tag)
            {
                long count = m->Count;
                int n = Magazine.AvailOf(count);
                if (n < m->Limit)
                {
                    Magazine.Entry(m)[n] = obj;
                    m->Count = count + 1;
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>
    /// True when <paramref name="obj"/> is the start of an object slot of this cache: inside the page source's
    /// reserve, in an arena this cache owns, on a slot boundary, not in the slab's leftover tail. Reads only the
    /// owner table, never the pointer's memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsObject(void* obj)
    {
        nuint off = (nuint)obj - (nuint)PageSource.Base;
        return off < PageSource.ReserveBytes && PageSource.Owner[off >> PageSource.ArenaShift] == Slot && IsObjectInOwnArena(off);
    }

    /// <summary>
    /// <see cref="IsObject"/> for a pointer at offset <paramref name="off"/> of the reserve whose arena the caller has
    /// already found this cache to own. Always false for <see cref="Never"/>.
    /// </summary>
    /// <remarks>
    /// One multiply and one compare test "a multiple of the size, below the slab's object count" at once (Lemire,
    /// Kaser and Kurz's divisibility test, 2019). With 2^64 = q × size + r and c = q + 1, the offset k × size + j
    /// times c is k × (size − r) + j × c modulo 2^64: for j = 0 that grows with k from 0 in steps of at least 1, so it
    /// is below objects × (size − r) exactly when k is below the object count; for any other j it is at least c,
    /// about 2^64 / size, far above any threshold (offsets and sizes are at most 2^22, a 4 MiB slab, so nothing wraps).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsObjectInOwnArena(nuint off) => (ulong)(off & _slabMask) * _multiplier < _threshold;
}
