using System;
using System.Numerics;
using SlabGen.PageAlloc;
using SlabGen.Policy;

namespace SlabGen.Core;

/// <summary>
/// Where everything sits in one object slot and how many slots make a slab (<c>calculate_sizes</c> and
/// <c>calculate_order</c>). Without debug flags a slot is <c>[object][free pointer if it cannot overlay the object]
/// [padding to align]</c>. With them it is laid out as SLUB lays out a debug slot (offsets from the object's start,
/// which is <see cref="RedLeftPad"/> bytes into the slot):
/// <code>
/// [left red zone: RedLeftPad]                                     Z: 0xbb free, 0xcc allocated
/// [object: ObjectSize]                                            P: 0x6b ... 0xa5 while free (no ctor)
/// [right red zone: ObjectSize .. InUse]                           Z: at least one word; without Z, alignment padding (P: 0x5a)
/// [free pointer, when it may not overlay the object: 8 bytes]     P, a ctor, or a kmalloc cache under Z
/// [struct track for alloc and free: 2 x Track.Size]               U
/// [kmalloc request size: 4 bytes]                                 kmalloc caches under U or Z
/// [padding: PadOffset .. Size - RedLeftPad]                       Z adds a word of it; P fills it with 0x5a
/// </code>
/// Object <c>i</c> of a slab starts at <c>slab base + RedLeftPad + i * Size</c>.
/// </summary>
internal readonly record struct SlabLayout(
    int ObjectSize, int Size, int Align, int Offset, int RedLeftPad, int Order, int ObjectsPerSlab)
{
    public const int MinAlign = SlabLimits.MinAlign;
    public const int CacheLineSize = SlabLimits.CacheLineSize;
    public const int MaxAlign = SlabLimits.MaxAlign;
    public const int SlabMaxOrder = 3;      // PAGE_ALLOC_COSTLY_ORDER: beyond it only when one object needs it
    public const int MaxObjsPerSlab = 32767; // objects:15
    public const int MaxObjectSize = SlabLimits.MaxObjectSize;

    /// <summary>Bytes of one slab.</summary>
    public int SlabBytes => PageSource.PageSize << Order;

    /// <summary>floor(2^64 / Size) + 1: an offset times this is small exactly at slot boundaries (<see cref="IsSlotBelow"/>).</summary>
    public ulong SlotMultiplier { get; } = Size > 0 ? (ulong)(((UInt128)1 << 64) / (ulong)Size) + 1 : 0;

    /// <summary>Size - 2^64 mod Size: what each further slot adds to an offset's product with <see cref="SlotMultiplier"/>.</summary>
    public ulong SlotStep { get; } = Size > 0 ? (ulong)Size - (ulong)(((UInt128)1 << 64) % (ulong)Size) : 0;

    /// <summary>
    /// True when <paramref name="off"/>, bytes from a slab's first slot, starts one of its first <paramref name="count"/>
    /// slots: a multiply and a compare where <c>off % Size == 0 &amp;&amp; off / Size &lt; count</c> would divide.
    /// </summary>
    /// <remarks>
    /// Lemire, Kaser and Kurz's divisibility test (2019). With 2^64 = q × Size + r and c = q + 1, the offset k × Size + j
    /// times c is k × (Size − r) + j × c modulo 2^64: for j = 0 that grows with k from 0 in steps of Size − r ≥ 1, so it
    /// is below count × (Size − r) exactly when k is below count; for any other j it is at least c, about 2^64 / Size,
    /// far above any such bound. Offsets are first checked against the slab's bytes (at most 2^22, a 4 MiB slab), so
    /// nothing wraps.
    /// </remarks>
    public bool IsSlotBelow(nuint off, int count) => off < (nuint)SlabBytes && (ulong)off * SlotMultiplier < (ulong)count * SlotStep;

    /// <summary>The debug flags the slot is laid out for (F Z P U T); none for the default layout.</summary>
    public SlabFlags DebugFlags { get; init; }

    /// <summary>True when the cache takes the checked paths (any debug flag).</summary>
    public bool Debug => DebugFlags != 0;

    /// <summary>Objects are poisoned while free (<c>__OBJECT_POISON</c>: P and no ctor).</summary>
    public bool PoisonObject { get; init; }

    /// <summary><c>s->inuse</c>: the object and its right red zone (or alignment padding); 0 for the default layout.</summary>
    public int InUse { get; init; }

    /// <summary><c>get_info_end</c>: where the tracks start, after the free pointer when it lies outside the object.</summary>
    public int InfoEnd { get; init; }

    /// <summary>Where the kmalloc request size is kept (<c>set_orig_size</c>), or -1 when it is not.</summary>
    public int OrigSizeOffset { get; init; }

    /// <summary>Where the padding starts (after the tracks and the request size).</summary>
    public int PadOffset { get; init; }

    /// <summary><c>size_from_object</c>: the slot's bytes from the object's start on.</summary>
    public int SizeFromObject => Size - RedLeftPad;

    /// <summary><c>freeptr_outside_object</c>: the free pointer does not overlay the object, so it is checked while allocated too.</summary>
    public bool FreePointerOutside => Debug && Offset >= InUse;

    /// <summary>The cache stores the kmalloc request size (<c>slub_debug_orig_size</c>).</summary>
    public bool TracksOrigSize => OrigSizeOffset >= 0;

    /// <summary>
    /// The layout for an object of <paramref name="objectSize"/> bytes, or an exception naming the cache and the
    /// problem. <paramref name="inUse"/> is how many of those bytes the object really uses (the kernel's
    /// <c>inuse</c>) when the size was rounded up to a size class; 0 means all of them. Debug flags in
    /// <paramref name="flags"/> give the debug slot; <paramref name="kmalloc"/> (<c>SLAB_KMALLOC</c>) adds the request size.
    /// </summary>
    public static SlabLayout Calculate(string name, int objectSize, int align, SlabFlags flags, bool hasCtor, int cpus, int inUse = 0, bool kmalloc = false)
    {
        if (objectSize < 1 || objectSize > MaxObjectSize)
            throw new ArgumentOutOfRangeException(nameof(objectSize), objectSize,
                $"slab cache '{name}': object size {objectSize} is outside 1..{MaxObjectSize} bytes.");
        if (align < 0 || align > MaxAlign || (align != 0 && !BitOperations.IsPow2(align)))
            throw new ArgumentOutOfRangeException(nameof(align), align,
                $"slab cache '{name}': alignment {align} is not 0 or a power of two up to {MaxAlign}.");

        int a = ObjectSlot.Alignment(align, (flags & SlabFlags.HwCacheAlign) != 0);
        SlabFlags debug = flags & SlabFlagSets.Debug;
        if (debug != 0)
            return CalculateDebug(name, objectSize, a, debug, hasCtor, cpus, kmalloc);

        (long slot, int offset) = ObjectSlot.Slot(objectSize, inUse, a, hasCtor);
        if (slot > MaxObjectSize)
            throw new ArgumentOutOfRangeException(nameof(objectSize), objectSize,
                $"slab cache '{name}': object size {objectSize} with its metadata ({slot} bytes) exceeds {MaxObjectSize} bytes.");
        int size = (int)slot;
        (int order, int num) = CalculateOrder(size, cpus);
        return new SlabLayout(objectSize, size, a, offset, 0, order, num) { OrigSizeOffset = -1 };
    }

    /// <summary>
    /// The debug slot (<c>calculate_sizes</c> under <c>CONFIG_SLUB_DEBUG</c>). An object too big to carry Z, P and U
    /// within the largest slab keeps F and T only.
    /// </summary>
    private static SlabLayout CalculateDebug(string name, int objectSize, int align, SlabFlags flags, bool hasCtor, int cpus, bool kmalloc)
    {
        bool redZone = (flags & SlabFlags.RedZone) != 0, poison = (flags & SlabFlags.Poison) != 0, storeUser = (flags & SlabFlags.StoreUser) != 0;
        // slub_debug_orig_size needs U in the kernel; SlabGen keeps the request size under Z alone too, so that Z by
        // itself catches a kmalloc(18) that writes byte 18.
        bool origSize = kmalloc && (storeUser || redZone);
        long size = AlignUp(objectSize, sizeof(long));
        if (redZone && size == objectSize)
            size += sizeof(long); // a word of right red zone at least
        int inUse = (int)size;
        int offset;
        if (poison || hasCtor || (redZone && (objectSize < sizeof(long) || origSize)))
        {
            offset = inUse; // the free pointer may not overlay the object: poison, constructed state or the kmalloc red zone live there
            size += sizeof(long);
        }
        else
            offset = (objectSize / 2) & ~(sizeof(long) - 1);
        int infoEnd = (int)size;
        if (storeUser)
            size += 2 * Track.Size;
        int origOffset = -1;
        if (origSize)
        {
            origOffset = (int)size;
            size += sizeof(uint);
        }
        int padOffset = (int)size;
        int redLeftPad = 0;
        if (redZone)
        {
            size += sizeof(long); // padding that catches a write before the next object's left red zone
            redLeftPad = (int)AlignUp(sizeof(long), align);
            size += redLeftPad;
        }
        size = AlignUp(size, align);
        if (size > MaxObjectSize)
        {
            SlabFlags kept = flags & ~SlabDebugOptions.MetadataFlags;
            return kept != 0
                ? CalculateDebug(name, objectSize, align, kept, hasCtor, cpus, kmalloc)
                : Calculate(name, objectSize, align, 0, hasCtor, cpus, 0, kmalloc);
        }
        (int order, int num) = CalculateOrder((int)size, cpus);
        return new SlabLayout(objectSize, (int)size, align, offset, redLeftPad, order, num)
        {
            DebugFlags = flags,
            PoisonObject = poison && !hasCtor,
            InUse = inUse,
            InfoEnd = infoEnd,
            OrigSizeOffset = origOffset,
            PadOffset = padOffset,
        };
    }

    /// <summary><c>calculate_order</c>: the smallest order with little waste and enough objects, and its object count.</summary>
    private static (int Order, int Objects) CalculateOrder(int size, int cpus)
    {
        int minObjects = 4 * (BitOperations.Log2((uint)Math.Max(cpus, 1)) + 2); // 4 * (fls(nr_cpus) + 1)
        int order = 0, num = 0;
        for (; order <= PageSource.MaxOrder; order++)
        {
            int slab = PageSource.PageSize << order;
            num = Math.Min(slab / size, MaxObjsPerSlab);
            if (num == 0)
                continue;
            int leftOver = slab - num * size;
            if ((leftOver * 8 <= slab && num >= minObjects) || order >= SlabMaxOrder || num == MaxObjsPerSlab)
                break;
        }
        return (order, num);
    }

    /// <summary><c>get_order</c>: the order of the smallest block of pages that holds <paramref name="bytes"/>.</summary>
    public static int GetOrder(long bytes)
    {
        int order = 0;
        while (((long)PageSource.PageSize << order) < bytes)
            order++;
        return order;
    }

    private static long AlignUp(long value, int align) => (value + align - 1) & ~(long)(align - 1);
}
