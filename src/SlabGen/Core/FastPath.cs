using System;
using System.Runtime.CompilerServices;
using System.Threading;
using SlabGen.PageAlloc;

namespace SlabGen.Core;

/// <summary>
/// The part of a cache that the inlined fast paths read: which magazine is ours (slot and tag), how to tell an
/// object of ours from any other pointer without touching memory that may be unmapped, and the free pointer that
/// marks an object free (<see cref="FreePointer"/>). Immutable, so the typed and untyped faces of a cache each hold a
/// copy and pay no extra indirection.
/// </summary>
/// <remarks>
/// What a hot pair costs, counted in the Tier-1 x64 code .NET 10 makes for a loop that allocates a 64-byte object,
/// stamps it and frees it (<c>DOTNET_JitDisasm</c>), as mimalloc's <c>alloc.c</c> counts its own:
/// <list type="bullet">
/// <item><see cref="SlabCache{T}"/>'s <c>Alloc</c> + <c>Free</c>: 92 instructions, and one thread-static lookup (a
/// helper call under the JIT on Linux, shared by the pair);</item>
/// <item><see cref="SlabLocal{T}"/>'s: about 80, and no lookup;</item>
/// <item>the floor (a thread-local intrusive free list, benchmarks/): 6.</item>
/// </list>
/// The difference is what this struct checks: the table and tag of the magazine on both halves (about 18), the free
/// mark of the popped object and the commit's tag re-check (about 10), the pointer a free is given (reserve, owner
/// table, slot boundary: 14) and its free mark (about 10), the marks written (2), and the branches to the slow paths.
/// </remarks>
internal readonly unsafe struct FastPath
{
    public readonly int Slot;
    public readonly int Tag;
    private readonly nuint _slabMask;

    /// <summary>The cache's free pointer encoding; its word in an object tells free from live.</summary>
    public readonly FreePointer Fp;

    /// <summary><see cref="SlabLayout.SlotMultiplier"/>, here beside the other values the inlined object test reads.</summary>
    private readonly ulong _multiplier;

    /// <summary>objects × <see cref="SlabLayout.SlotStep"/>: the products of the slab's object offsets all fall below it.</summary>
    private readonly ulong _threshold;

    /// <summary>
    /// The page source's reserve and owner table (<see cref="PageSource.Base"/>, <see cref="PageSource.ReserveBytes"/>,
    /// <see cref="PageSource.PageOwner"/>), copied here: under Native AOT each read of a static of a class that has a
    /// static constructor carries an initialization check, which in a loop also keeps values out of registers.
    /// </summary>
    private readonly byte* _reserveBase;
    private readonly nuint _reserveBytes;
    private readonly int* _pageOwner;

    /// <summary>
    /// The tag of a debug cache's fast path: no magazine ever carries it (tags are 0 to <see cref="Magazine.MaxTag"/>, with at
    /// most the locked and retired bits), so its allocation fast path always falls to the slow path.
    /// </summary>
    public const int NoMagazineTag = -1;

    /// <summary>
    /// The fast path of a cache laid out by <paramref name="layout"/>. A debug cache's (<see cref="SlabLayout.Debug"/>)
    /// never succeeds: its tag is <see cref="NoMagazineTag"/> and its object test is false for every offset (threshold
    /// 0), so every operation reaches a slow path, which takes the checked one. The other caches' inlined code is the
    /// same either way; only these two values differ.
    /// </summary>
    public FastPath(int slot, int tag, in SlabLayout layout, ulong random)
    {
        // The object test counts slots from the slab's first byte: only a debug layout has a left red zone, and a
        // debug cache's test is off (IsDebugObject, which counts from base + RedLeftPad, stands in for it).
        System.Diagnostics.Debug.Assert(layout.Debug || layout.RedLeftPad == 0, "a left red zone outside a debug layout");
        Slot = slot;
        Tag = layout.Debug ? NoMagazineTag : tag;
        _slabMask = (nuint)layout.SlabBytes - 1;
        Fp = new FreePointer(random, layout.Offset, layout.SlabBytes);
        _multiplier = layout.SlotMultiplier;
        _threshold = layout.Debug ? 0 : (ulong)layout.ObjectsPerSlab * layout.SlotStep;
        _reserveBase = PageSource.Base;
        _reserveBytes = PageSource.ReserveBytes;
        _pageOwner = PageSource.PageOwner;
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
    /// <see cref="TryAlloc()"/> with this thread's magazine table already read: <see cref="PeekAlloc"/> then
    /// <see cref="CommitAlloc"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* TryAlloc(nint* table)
        => PeekAlloc(table, out Magazine* m, out long count, out void* obj) ? CommitAlloc(m, count, obj) : null;

    /// <summary>
    /// The first half of an allocation: the top object of this thread's magazine when the magazine is ours (tag) and
    /// not empty and the object still carries its free mark (nothing wrote to it while it was free; the slow path
    /// reports and quarantines one that does not), else false. Writes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool PeekAlloc(nint* table, out Magazine* m, out long count, out void* obj)
    {
        if (table != null)
        {
            m = Magazine.FromEntry(table, table[Slot]); // the table's dead header when this thread has none
            if (Volatile.Read(ref m->Tag) == Tag)
            {
                count = m->Count;
                int n = Magazine.AvailOf(count) - 1;
                if (n >= 0)
                {
                    obj = Magazine.Entry(m)[n];
                    if (*Fp.Word(obj) == Fp.Key(obj))
                        return true;
                }
            }
        }
        m = null;
        count = 0;
        obj = null;
        return false;
    }

    /// <summary>
    /// The second half of an allocation: pops by storing <see cref="Magazine.Count"/>, then reads the tag again. Still
    /// ours: the object is live (its free mark cleared, so no secret is left in it) and returned. A stealer locked the
    /// magazine in between: <see cref="AllocRaced"/> decides (see <see cref="Magazine"/>). Null when the object is not
    /// ours after all.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* CommitAlloc(Magazine* m, long count, void* obj)
    {
        Volatile.Write(ref m->Count, count + Magazine.OneAlloc);
        if (Volatile.Read(ref m->Tag) != Tag)
            return AllocRaced(m, count, obj, Fp);
        *Fp.Word(obj) = 0;
        return obj;
    }

    /// <summary>
    /// An allocation that popped <paramref name="obj"/> as a stealer locked the magazine: waits for the stealer to
    /// finish (it works under its own locks, never waiting for this thread), then keeps the object unless the stealer
    /// worked from a view that still held it and took it, in which case the pop is undone and null returned.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* AllocRaced(Magazine* m, long count, void* obj, FreePointer fp)
    {
        var spinner = new SpinWait();
        while ((Volatile.Read(ref m->Tag) & Magazine.LockedBit) != 0)
            spinner.SpinOnce();
        if (Volatile.Read(ref m->StolenCount) == count && m->Taken > Magazine.AvailOf(count) - 1)
        {
            Volatile.Write(ref m->Count, count); // the stealer has it: as if this allocation never popped
            return null;
        }
        *fp.Word(obj) = 0;
        return obj;
    }

    /// <summary>Pushes a checked object onto this thread's magazine (<c>__cache_free</c>'s fast case); false when it is full or absent, or the object looks free already.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryFree(void* obj) => TryFree(ThreadMagazines.t_table, obj);

    /// <summary><see cref="TryFree(void*)"/> with this thread's magazine table already read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryFree(nint* table, void* obj) => TryFree(table, Slot, obj);

    /// <summary>
    /// <see cref="TryFree(nint*, void*)"/> with the slot given by the caller, who read it from the owner table: the
    /// magazine's address then waits on one load after <paramref name="obj"/> rather than on this struct's.
    /// <see cref="PeekFree"/> then <see cref="CommitFree"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryFree(nint* table, int slot, void* obj)
    {
        if (!PeekFree(table, slot, obj, out Magazine* m, out long count, out ulong key))
            return false;
        CommitFree(m, count, obj, key);
        return true;
    }

    /// <summary>
    /// The first half of a free: true when this thread's magazine is ours (tag) and has room, and
    /// <paramref name="obj"/>'s free pointer word does not mark it free already (an object that looks free is left to
    /// the slow path, which tells a double free from chance). Writes nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool PeekFree(nint* table, int slot, void* obj, out Magazine* m, out long count, out ulong key)
    {
        if (table != null)
        {
            m = Magazine.FromEntry(table, table[slot]); // the table's dead header when this thread has none
            if (Volatile.Read(ref m->Tag) == Tag)
            {
                count = m->Count;
                key = Fp.Key(obj);
                if (Magazine.AvailOf(count) < m->Limit && !Fp.LooksFreeFor(key, *Fp.Word(obj)))
                    return true;
            }
        }
        m = null;
        count = 0;
        key = 0;
        return false;
    }

    /// <summary>The second half of a free: the object is marked free (with the <paramref name="key"/> the first half computed) and pushed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CommitFree(Magazine* m, long count, void* obj, ulong key)
    {
        *Fp.Word(obj) = key;
        Magazine.Entry(m)[Magazine.AvailOf(count)] = obj;
        m->Count = count + 1;
    }

    /// <summary>
    /// True when <paramref name="obj"/> is the start of an object slot of this cache: inside the page source's
    /// reserve, in a page of a live slab of this cache, on a slot boundary, not in the slab's leftover tail. Reads
    /// only the page owner table, never the pointer's memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsObject(void* obj)
    {
        nuint off = (nuint)obj - (nuint)_reserveBase;
        return off < _reserveBytes && _pageOwner[off >> PageSource.PageShift] == Slot && IsObjectInOwnArena(off);
    }

    /// <summary>
    /// <see cref="IsObject"/> for a pointer at offset <paramref name="off"/> of the reserve whose page the caller has
    /// already found this cache to own. Always false for <see cref="Never"/> and for a debug cache.
    /// </summary>
    /// <remarks>
    /// <see cref="SlabLayout.IsSlotBelow"/> for the whole slab with its factors held here: one multiply and one compare
    /// test "a multiple of the size, below the slab's object count" at once. The masked offset is below the slab's
    /// bytes by construction.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsObjectInOwnArena(nuint off) => (ulong)(off & _slabMask) * _multiplier < _threshold;
}
