namespace SlabGen;

/// <summary>Everything <see cref="SlabCache.Create(string, SlabCacheOptions)"/> can be told about a new cache.</summary>
public sealed unsafe class SlabCacheOptions
{
    /// <summary>Object size in bytes (required for untyped caches; 0 = <c>sizeof(T)</c> for typed ones).</summary>
    public int Size { get; init; }

    /// <summary>Object alignment: 0 (natural) or a power of two up to 4096.</summary>
    public int Align { get; init; }

    /// <summary>Creation flags.</summary>
    public SlabFlags Flags { get; init; }

    /// <summary>Runs on every object when its slab is populated (not on every allocation).</summary>
    public delegate*<void*, void> Ctor { get; init; }

    /// <summary>Per-CPU array limit; null = tuned from the object size.</summary>
    public int? Limit { get; init; }

    /// <summary>Refill/flush batch; null = tuned.</summary>
    public int? BatchCount { get; init; }

    /// <summary>Shared array size in batches; null = tuned.</summary>
    public int? SharedFactor { get; init; }

    /// <summary>
    /// Whether the cache sizes its magazines and per-CPU arrays to its load (<see cref="SlabCache.AutoTuned"/>); null =
    /// the process setting (<c>SLABGEN_AUTOTUNE</c>, on by default). Giving <see cref="Limit"/>,
    /// <see cref="BatchCount"/> or <see cref="SharedFactor"/> turns it off: explicit numbers stay as given.
    /// </summary>
    public bool? AutoTune { get; init; }

    /// <summary>CPU-to-node map; null = <see cref="NodeTopology.Machine"/>.</summary>
    public NodeTopology? Topology { get; init; }

    /// <summary>
    /// Where the name comes from, usually the assembly that declares the cache (the <c>[SlabCache]</c> generator sets
    /// it to the assembly's name). When the name is already taken, by a cache of another library that chose the same
    /// name, the cache is named <c>name@scope</c> instead of failing: two libraries may each have a
    /// <c>[SlabCache] partial struct Connection</c>, and slabinfo tells their caches apart. Null: a taken name is refused.
    /// </summary>
    public string? NameScope { get; init; }

    /// <summary>Bytes of each object actually used when <see cref="Size"/> was rounded up (a typed cache's <c>sizeof(T)</c>); 0 = all.</summary>
    internal int InUse { get; init; }

    /// <summary>A cache that cannot be made throws, as with <see cref="SlabFlags.Panic"/>, without the flag (the typed face's <c>Create</c>).</summary>
    internal bool ThrowOnFailure { get; init; }

    /// <summary>A cache that lives as long as the process (the kmalloc caches): destroy refuses it.</summary>
    internal bool Permanent { get; init; }

    /// <summary><c>SLAB_KMALLOC</c>: a kmalloc size class; with debug flags its slots keep each request's size.</summary>
    internal bool Kmalloc { get; init; }
}
