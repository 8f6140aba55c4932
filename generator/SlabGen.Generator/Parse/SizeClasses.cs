namespace SlabGen.Generator.Parse;

/// <summary>
/// The kmalloc size classes: 8, 16, 32, 64, 96, 128, 192, 256, 512, 1k ... 8k (the runtime's kmalloc caches), then
/// powers of two up to 4 MiB (the kernel's kmalloc-16k ... kmalloc-4M), and the slot the runtime makes of a class.
/// </summary>
internal static class SizeClasses
{
    /// <summary>The largest slot a slab cache holds, metadata included (the runtime's SlabLayout.MaxObjectSize).</summary>
    public const int MaxSlotSize = 4 * 1024 * 1024;

    /// <summary>The largest class served by a runtime kmalloc cache, so the largest a merged cache can use.</summary>
    public const int MaxKmallocCacheSize = 8192;

    /// <summary>The runtime's ARCH_SLAB_MINALIGN: objects are at least pointer-aligned.</summary>
    public const int MinAlign = 8;

    /// <summary>SLAB_HWCACHE_ALIGN's alignment: a cache line.</summary>
    public const int CacheLineSize = 64;

    /// <summary>The size class of <paramref name="size"/> bytes, or 0 when it is above 4 MiB (<c>kmalloc_index</c>).</summary>
    public static int ClassOf(int size)
    {
        if (size <= 8)
            return 8;
        if (size <= 16)
            return 16;
        if (size <= 32)
            return 32;
        if (size <= 64)
            return 64;
        if (size <= 96)
            return 96;
        if (size <= 128)
            return 128;
        if (size <= 192)
            return 192;
        if (size > MaxSlotSize)
            return 0;
        int sizeClass = 256;
        while (sizeClass < size)
            sizeClass <<= 1;
        return sizeClass;
    }

    /// <summary>
    /// Bytes per slot the runtime makes for a <paramref name="sizeClass"/>-byte object of which
    /// <paramref name="inUse"/> bytes are the struct (<c>calculate_sizes</c>): with a ctor the free pointer goes after
    /// the struct, inside the class's spare room when there are 8 bytes of it, else after the class; then aligned.
    /// </summary>
    public static long SlotSize(int sizeClass, int inUse, int align, bool hasCtor)
    {
        long size = TypeLayout.AlignUp(sizeClass, MinAlign);
        if (hasCtor && TypeLayout.AlignUp(inUse, MinAlign) + sizeof(long) > size)
            size += sizeof(long);
        return (size + align - 1) / align * align;
    }
}
