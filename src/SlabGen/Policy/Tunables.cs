using System;

namespace SlabGen.Policy;

/// <summary>
/// The per-CPU array tunables of one cache: <c>limit</c>, <c>batchcount</c>, <c>shared</c>; the table that picks them
/// from the object size (<c>enable_cpucache</c>) and the bounds a re-tune must keep (<c>slabinfo_write</c>).
/// </summary>
internal readonly record struct Tunables(int Limit, int BatchCount, int SharedFactor)
{
    /// <summary><c>BOOT_CPUCACHE_ENTRIES</c>: the array size of caches made before the allocator is fully up.</summary>
    public static readonly Tunables Boot = new(1, 1, 0);

    public const int MaxLimit = SlabLimits.MaxLimit;
    public const int MaxSharedFactor = SlabLimits.MaxSharedFactor;

    /// <summary>Picks the tunables from the object size (<c>enable_cpucache</c>'s table).</summary>
    public static Tunables ForSize(int size, int cpus)
    {
        int limit = LimitFor(size);
        return new Tunables(limit, BatchCountFor(limit), cpus > 1 ? SharedFactorFor(size) : 0);
    }

    /// <summary><c>enable_cpucache</c>: the bigger the object, the fewer a CPU keeps ("the numbers are guessed").</summary>
    public static int LimitFor(int size)
        => size > 128 * 1024 ? 1
            : size > SlabLimits.PageSize ? 8
            : size > 1024 ? 24
            : size > 256 ? 54
            : 120;

    /// <summary>Bytes of objects one magazine may hold once the cache has grown it to its load: 128 KiB.</summary>
    public const int AutoMaxMagazineBytes = 128 * 1024;

    /// <summary>
    /// The largest limit load may grow a cache of <paramref name="size"/>-byte objects to: a magazine of
    /// <see cref="AutoMaxMagazineBytes"/>, never below the table's value nor above <see cref="MaxLimit"/>
    /// (64-byte objects: 2,048; 256: 512; 4 KiB: 32).
    /// </summary>
    public static int AutoMaxLimit(int size) => Math.Min(Math.Max(AutoMaxMagazineBytes / size, LimitFor(size)), MaxLimit); // no Math.Clamp in netstandard2.0

    /// <summary><c>enable_cpucache</c>: <c>batchcount = (limit + 1) / 2</c>.</summary>
    public static int BatchCountFor(int limit) => (limit + 1) / 2;

    /// <summary>
    /// <c>enable_cpucache</c>: "the shared array replaces Bonwick's magazine layer", 8 batches for objects up to a page
    /// on SMP (0 on one CPU, which <see cref="ForSize"/> applies).
    /// </summary>
    public static int SharedFactorFor(int size) => size <= SlabLimits.PageSize ? 8 : 0;

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
