namespace SlabGen;

/// <summary>
/// A cache's counters, as SLAB's STATS keeps them. Every allocation counts once as a hit (served by a magazine or
/// a per-CPU array) or a miss (the per-CPU array had to refill from the node: <c>cache_alloc_refill</c>); every
/// free once as a hit or a miss (the per-CPU array had to flush: <c>cache_flusharray</c>). A magazine refilled from,
/// or emptied into, its node's depot serves the operation as a hit; <see cref="DepotGet"/> and <see cref="DepotPut"/>
/// count those whole-full magazine exchanges. <see cref="QuarantinedSlabs"/> counts slabs found damaged and taken out of
/// service (see <see cref="SlabError"/>). <see cref="MagazineGrows"/> and <see cref="MagazineShrinks"/> count the times
/// the cache resized its magazines to its load (see <see cref="SlabCache.AutoTuned"/>).
/// </summary>
public readonly record struct SlabStatistics(
    long AllocHit,
    long AllocMiss,
    long FreeHit,
    long FreeMiss,
    long Grown,
    long Reaped,
    long RemoteFrees,
    long DepotGet = 0,
    long DepotPut = 0,
    long QuarantinedSlabs = 0,
    long MagazineGrows = 0,
    long MagazineShrinks = 0)
{
    /// <summary>Allocations counted: <see cref="AllocHit"/> + <see cref="AllocMiss"/>.</summary>
    public long Allocations => AllocHit + AllocMiss;

    /// <summary>Frees counted: <see cref="FreeHit"/> + <see cref="FreeMiss"/>.</summary>
    public long Frees => FreeHit + FreeMiss;
}
