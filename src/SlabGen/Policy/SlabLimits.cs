namespace SlabGen.Policy;

/// <summary>
/// The limits the runtime enforces and the <c>[SlabCache]</c> generator checks at compile time. Policy the two share
/// lives in this folder, in files that depend on nothing but the base library, compiled into both (the generator links
/// them), so the generator never re-types a rule of the runtime.
/// </summary>
internal static class SlabLimits
{
    /// <summary><c>PAGE_SHIFT</c>: 4 KiB pages.</summary>
    public const int PageShift = 12;

    public const int PageSize = 1 << PageShift;

    /// <summary>The page source's arenas are 4 MiB, and so is the largest block.</summary>
    public const int ArenaShift = 22;

    /// <summary>The largest block is one arena: order 10, 4 MiB (the kernel's <c>KMALLOC_MAX_SIZE</c> on 4 KiB pages).</summary>
    public const int MaxOrder = ArenaShift - PageShift;

    /// <summary>The largest object slot, metadata included: one block of <see cref="MaxOrder"/>.</summary>
    public const int MaxObjectSize = 1 << (PageShift + MaxOrder);

    /// <summary><c>ARCH_SLAB_MINALIGN</c>: objects are at least pointer-aligned, so a free pointer fits and is aligned.</summary>
    public const int MinAlign = 8;

    /// <summary><c>SLAB_HWCACHE_ALIGN</c>'s alignment: a cache line.</summary>
    public const int CacheLineSize = 64;

    /// <summary>The largest alignment a cache can ask for: a page.</summary>
    public const int MaxAlign = PageSize;

    /// <summary>Live caches at most, slot 0 never used (so an owner table entry of 0 means "nobody").</summary>
    public const int MaxCaches = 4096;

    /// <summary>The largest per-CPU array limit (<c>slabinfo_write</c>'s bound); it also bounds a magazine.</summary>
    public const int MaxLimit = 4096;

    /// <summary>The largest shared factor.</summary>
    public const int MaxSharedFactor = 64;
}
