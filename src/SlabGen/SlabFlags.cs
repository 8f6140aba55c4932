using System;

namespace SlabGen;

/// <summary>Cache creation flags, with the kernel's <c>SLAB_*</c> bit values where the kernel has the flag.</summary>
[Flags]
public enum SlabFlags
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>
    /// Consistency checks (<c>SLAB_CONSISTENCY_CHECKS</c>, <c>slab_debug</c> letter F): on every allocation and free
    /// the slab, the object and its red zones, poison and padding are checked, and a free of an object already on its
    /// slab's freelist is found by walking it. Damage is reported and repaired; see docs/debugging.md.
    /// </summary>
    ConsistencyChecks = 0x0000_0100,

    /// <summary>
    /// Red zones (<c>SLAB_RED_ZONE</c>, letter Z): guard bytes before and after each object (0xbb while it is free,
    /// 0xcc while it is allocated), and for a kmalloc cache between the size asked for and the size class, checked
    /// on free and by <see cref="SlabCache.Validate"/>: an overflow or underflow is found at the object it hit.
    /// </summary>
    RedZone = 0x0000_0400,

    /// <summary>
    /// Poisoning (<c>SLAB_POISON</c>, letter P): a free object is filled with 0x6b (its last byte 0xa5) and its padding
    /// with 0x5a, checked when it is allocated again, so a write after free is found. A cache with a ctor poisons
    /// only the padding, as constructed state must survive.
    /// </summary>
    Poison = 0x0000_0800,

    /// <summary>
    /// User tracking (<c>SLAB_STORE_USER</c>, letter U): the stack (up to 16 frames), thread, CPU and time of each
    /// object's last allocation and last free, kept in a stack depot and printed in every report, by
    /// <see cref="SlabCache.GetLiveObjects"/> and by a <see cref="SlabCache.Dispose"/> that finds leaks.
    /// </summary>
    StoreUser = 0x0001_0000,

    /// <summary>Tracing (<c>SLAB_TRACE</c>, letter T): a line per allocation and free, with the caller's stack, to <see cref="SlabAllocator.ErrorWriter"/>.</summary>
    Trace = 0x0020_0000,

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
