namespace SlabGen.Policy;

/// <summary>
/// Where an object's free pointer goes and how big its slot is (the size part of <c>calculate_sizes</c> and
/// <c>calculate_alignment</c>), for the runtime's layout and the generator's compile-time sizes alike.
/// </summary>
internal static class ObjectSlot
{
    /// <summary>
    /// The alignment a cache uses (<c>calculate_alignment</c>): at least a pointer, <paramref name="align"/>, and a whole
    /// cache line with <c>SLAB_HWCACHE_ALIGN</c>.
    /// </summary>
    public static int Alignment(int align, bool hwCacheAlign)
    {
        int a = align > SlabLimits.MinAlign ? align : SlabLimits.MinAlign;
        return hwCacheAlign && a < SlabLimits.CacheLineSize ? SlabLimits.CacheLineSize : a;
    }

    /// <summary>
    /// The slot of an <paramref name="objectSize"/>-byte object of which <paramref name="inUse"/> bytes are used (0: all),
    /// aligned to <paramref name="alignment"/>, and its free pointer's offset. A constructed object must keep its state
    /// while free, so with a ctor the free pointer goes after the bytes in use, inside the slot when rounding left room
    /// for it, else after it (SLUB does the same); without one it sits mid-object, away from small over- and
    /// underflows (SLUB since 5.7). The size may exceed <see cref="SlabLimits.MaxObjectSize"/>; the caller checks.
    /// </summary>
    public static (long Size, int Offset) Slot(int objectSize, int inUse, int alignment, bool hasCtor)
    {
        long size = AlignUp(objectSize, SlabLimits.MinAlign);
        int offset;
        if (hasCtor)
        {
            long used = AlignUp(inUse > 0 && inUse < objectSize ? inUse : objectSize, SlabLimits.MinAlign);
            offset = (int)used;
            if (used + sizeof(long) > size)
                size += sizeof(long);
        }
        else
            offset = (objectSize / 2) & ~(sizeof(long) - 1);
        return (AlignUp(size, alignment), offset);
    }

    private static long AlignUp(long value, int align) => (value + align - 1) & ~(long)(align - 1);
}
