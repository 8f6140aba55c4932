namespace SlabGen.Generator.Parse;

/// <summary>The per-CPU array tunables for an object size (<c>enable_cpucache</c>).</summary>
internal static class CpuCacheTuning
{
    /// <summary>The largest limit the runtime accepts (slabinfo_write's bound).</summary>
    public const int MaxLimit = 4096;

    /// <summary>The largest shared factor the runtime accepts.</summary>
    public const int MaxSharedFactor = 64;

    private const int PageSize = 4096;

    // enable_cpucache: the bigger the object, the fewer a CPU keeps.
    public static int LimitFor(int size)
        => size > 128 * 1024 ? 1
            : size > PageSize ? 8
            : size > 1024 ? 24
            : size > 256 ? 54
            : 120;

    // enable_cpucache: batchcount = (limit + 1) / 2.
    public static int BatchCountFor(int limit) => (limit + 1) / 2;

    // enable_cpucache: a shared array of 8 batches for objects up to a page, on SMP. The generated SlabSpec shows this
    // value; unless SharedFactor is given, the runtime decides, and makes it 0 on a machine with one CPU.
    public static int SharedFactorFor(int size) => size <= PageSize ? 8 : 0;
}
