using System;

namespace SlabGen.Core;

/// <summary>The per-CPU array tunables of one cache: <c>limit</c>, <c>batchcount</c>, <c>shared</c>.</summary>
internal readonly record struct Tunables(int Limit, int BatchCount, int SharedFactor)
{
    /// <summary><c>BOOT_CPUCACHE_ENTRIES</c>: the array size of caches made before the allocator is fully up.</summary>
    public static readonly Tunables Boot = new(1, 1, 0);

    public const int MaxLimit = 4096;
    public const int MaxSharedFactor = 64;

    /// <summary>Picks the tunables from the object size (<c>enable_cpucache</c>'s table).</summary>
    public static Tunables ForSize(int size, int cpus)
    {
        int limit = size > 128 * 1024 ? 1
            : size > PageAlloc.PageSource.PageSize ? 8
            : size > 1024 ? 24
            : size > 256 ? 54
            : 120;
        // "the shared array replaces Bonwick's magazine layer": on SMP, for objects up to a page.
        int shared = size <= PageAlloc.PageSource.PageSize && cpus > 1 ? 8 : 0;
        return new Tunables(limit, (limit + 1) / 2, shared);
    }

    /// <summary>Why these tunables are unusable, or null when they are fine (the checks of <c>slabinfo_write</c>).</summary>
    public string? Problem()
    {
        if (Limit < 1 || Limit > MaxLimit)
            return $"limit {Limit} is outside 1..{MaxLimit}";
        if (BatchCount < 1 || BatchCount > Limit)
            return $"batchcount {BatchCount} is outside 1..limit ({Limit})";
        if (SharedFactor < 0 || SharedFactor > MaxSharedFactor)
            return $"shared factor {SharedFactor} is outside 0..{MaxSharedFactor}";
        return null;
    }

    public void Validate(string cacheName)
    {
        string? problem = Problem();
        if (problem != null)
            throw new ArgumentException($"slab cache '{cacheName}': cannot tune: {problem}; the cache is unchanged.");
    }
}
