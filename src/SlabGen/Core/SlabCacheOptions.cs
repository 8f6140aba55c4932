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

    /// <summary>CPU-to-node map; null = <see cref="NodeTopology.Machine"/>.</summary>
    public NodeTopology? Topology { get; init; }

    /// <summary>Bytes of each object actually used when <see cref="Size"/> was rounded up (a typed cache's <c>sizeof(T)</c>); 0 = all.</summary>
    internal int InUse { get; init; }
}
