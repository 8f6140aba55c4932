using System;

namespace SlabGen;

/// <summary>Cache creation flags, with the kernel's <c>SLAB_*</c> bit values where the kernel has the flag.</summary>
[Flags]
public enum SlabFlags
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>Align objects to 64-byte cache lines (<c>SLAB_HWCACHE_ALIGN</c>).</summary>
    HwCacheAlign = 0x0000_2000,

    /// <summary>Creation failure throws instead of returning <see langword="null"/> (<c>SLAB_PANIC</c>).</summary>
    Panic = 0x0004_0000,

    /// <summary>Never share this cache with a compatible size-class cache (<c>SLAB_NO_MERGE</c>).</summary>
    NoMerge = 0x0100_0000,

    /// <summary>
    /// SlabGen's own opt-in: a generated cache whose layout is compatible with its kmalloc size class (no ctor, no
    /// layout-changing flags, no explicit tunables) shares that class's cache, the way SLUB's <c>find_mergeable</c>
    /// merges caches. Separate caches are SlabGen's default; see docs/merging.md.
    /// </summary>
    Merge = 0x4000_0000,
}
