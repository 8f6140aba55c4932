using System;

namespace SlabGen;

/// <summary>
/// Marks a <c>partial struct</c> for the SlabGen source generator, which emits a typed slab cache for it
/// (<c>kmem_cache_create</c>) with <c>Alloc</c>/<c>Free</c> (<c>kmem_cache_alloc</c>/<c>kmem_cache_free</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Struct, Inherited = false, AllowMultiple = false)]
public sealed class SlabCacheAttribute : Attribute
{
    /// <summary>Cache name as it appears in slabinfo; default: the type name in snake_case.</summary>
    public string? Name { get; set; }

    /// <summary>Object alignment in bytes, a power of two up to 4096; 0 = natural alignment.</summary>
    public int Align { get; set; }

    /// <summary>Creation flags.</summary>
    public SlabFlags Flags { get; set; }

    /// <summary>Name of a <c>static void M(ref T)</c> on the struct, run on each object when its slab is populated.</summary>
    public string? Ctor { get; set; }

    /// <summary>Per-CPU array limit; 0 = tuned from the object size (<c>enable_cpucache</c>).</summary>
    public int Limit { get; set; }

    /// <summary>Objects moved per refill/flush; 0 = tuned ((limit + 1) / 2).</summary>
    public int BatchCount { get; set; }

    /// <summary>Shared array size in batches; 0 = tuned (8 for objects up to 4 KiB on SMP).</summary>
    public int SharedFactor { get; set; }
}
