namespace SlabGen.Generator.Model;

/// <summary>The numbers the generated <c>SlabSpec</c> class holds as constants.</summary>
/// <param name="ObjectSize"><c>sizeof(T)</c> computed from the fields.</param>
/// <param name="NaturalAlign">The struct's alignment computed from the fields.</param>
/// <param name="Align">Object alignment: at least a pointer, the natural one, <c>Align</c>, 64 with HwCacheAlign.</param>
/// <param name="SizeClass">The kmalloc size class of the object size rounded up to <paramref name="Align"/>.</param>
/// <param name="Limit">Per-CPU array limit.</param>
/// <param name="BatchCount">Objects moved per refill or flush.</param>
/// <param name="SharedFactor">Shared array size in batches: the one given, else <c>enable_cpucache</c>'s on SMP.</param>
/// <param name="LimitOrBatchCountGiven">
/// True when <c>[SlabCache(Limit = ...)]</c> or <c>BatchCount</c> set them: the generated code passes both, which pins the
/// cache's tunables. Otherwise it passes neither, and the runtime starts from the same table and sizes the magazines
/// to the load.
/// </param>
/// <param name="SharedFactorGiven">
/// True when <c>[SlabCache(SharedFactor = ...)]</c> set it; otherwise the runtime picks it, since only the machine
/// the code runs on knows whether it has more than one CPU.
/// </param>
internal sealed record CacheLayoutSpec(
    int ObjectSize,
    int NaturalAlign,
    int Align,
    int SizeClass,
    int Limit,
    int BatchCount,
    int SharedFactor,
    bool LimitOrBatchCountGiven,
    bool SharedFactorGiven);
