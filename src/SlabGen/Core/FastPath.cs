using System.Numerics;
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

    /// <summary>The inverse, modulo 2^64, of the odd part of the object size (size = odd part × 2^<see cref="_sizeShift"/>).</summary>
    private readonly ulong _oddInverse;
    private readonly int _sizeShift;
    private readonly nuint _objects;

    public FastPath(int slot, int tag, in SlabLayout layout)
    {
        Slot = slot;
        Tag = tag;
        _slabMask = (nuint)layout.SlabBytes - 1;
        _sizeShift = BitOperations.TrailingZeroCount(layout.Size);
        _oddInverse = InverseOfOdd((ulong)layout.Size >> _sizeShift);
        _objects = (nuint)layout.ObjectsPerSlab;
    }

    /// <summary>x with x × <paramref name="odd"/> = 1 modulo 2^64 (Newton's iteration; each step doubles the correct low bits).</summary>
    private static ulong InverseOfOdd(ulong odd)
    {
        ulong x = odd; // correct to 3 bits: odd × odd = 1 mod 8
        for (int i = 0; i < 5; i++)
            x *= 2 - odd * x;
        return x;
    }

    /// <summary>
    /// A fast path no object belongs to: <see cref="IsObjectInOwnArena"/> is false for every offset (its slabs hold
    /// no objects). Tables use it where they would otherwise hold null.
    /// </summary>
    public static readonly FastPath Never = default;

    /// <summary>Pops an object from this thread's magazine (<c>____cache_alloc</c>'s <c>ac->entry[--ac->avail]</c>), or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* TryAlloc() => TryAlloc(ThreadMagazines.t_table);

    /// <summary><see cref="TryAlloc()"/> with this thread's magazine table already read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* TryAlloc(Magazine** table)
    {
        if (table != null)
        {
            Magazine* m = table[Slot]; // Magazine.None, not null, when this thread has none
            Volatile.Write(ref m->InUse, 1);
            if (Volatile.Read(ref m->Tag) == Tag)
            {
                int n = m->Avail - 1;
                if (n >= 0)
                {
                    void* obj = Magazine.Entry(m)[n];
                    m->Avail = n;
                    m->AllocHit++;
                    Volatile.Write(ref m->InUse, 0);
                    return obj;
                }
            }
            Volatile.Write(ref m->InUse, 0);
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
            Volatile.Write(ref m->InUse, 1);
            if (Volatile.Read(ref m->Tag) == Tag)
            {
                int n = m->Avail;
                if (n < m->Limit)
                {
                    Magazine.Entry(m)[n] = obj;
                    m->Avail = n + 1;
                    Volatile.Write(ref m->InUse, 0);
                    return true;
                }
            }
            Volatile.Write(ref m->InUse, 0);
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
    /// One multiply and one rotate test "a multiple of the size, below the slab's object count" at once (Granlund
    /// and Montgomery's divisibility test). For a multiple i × size, the product is i × 2^shift and the rotate yields
    /// i. Otherwise either a set bit below 2^shift rotates to the top, or the odd part does not divide and the
    /// product exceeds 2^64 / odd: both give at least 2^64 / size, far above any object count.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsObjectInOwnArena(nuint off)
    {
        ulong p = (ulong)(off & _slabMask) * _oddInverse;
        // Rotate right by _sizeShift, as two shifts: shrx/shlx take their count in any register, ror only in cl.
        return ((p >> _sizeShift) | (p << (64 - _sizeShift))) < _objects;
    }
}
