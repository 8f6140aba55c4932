using System.Linq;
using SlabGen.Core;
using Xunit;

namespace SlabGen.Tests;

/// <summary>The per-thread magazine: its one-word fill level and hit counter, and how stealers take it.</summary>
public unsafe class MagazineTests
{
    [Fact]
    public void A_magazine_at_the_largest_limit_counts_every_hit()
    {
        Assert.True(Tunables.MaxLimit <= Magazine.AvailMask, "the fill level must fit below the hit counter");
        using SlabCache cache = SlabCache.Create(TestSupport.Name("mag_max"), 64, flags: SlabFlags.Panic)!;
        cache.Tune(Tunables.MaxLimit, 60, 0);
        nint[] objs = TestSupport.AllocMany(cache, Tunables.MaxLimit);
        cache.Shrink(); // this thread's magazine starts empty
        SlabStatistics before = cache.GetStatistics();

        // Every free fits: the fill level climbs to 4,096 without touching the counter above it.
        TestSupport.FreeAll(cache, objs);
        SlabStatistics freed = cache.GetStatistics();
        Assert.Equal(Tunables.MaxLimit, freed.FreeHit - before.FreeHit);
        Assert.Equal(before.FreeMiss, freed.FreeMiss);
        Assert.Equal(before.AllocHit, freed.AllocHit);
        Assert.Equal(Tunables.MaxLimit, cache.CachedObjects());

        // Every allocation is a hit, and the fill level comes back down to 0 without borrowing from the counter.
        nint[] again = TestSupport.AllocMany(cache, Tunables.MaxLimit);
        SlabStatistics after = cache.GetStatistics();
        Assert.Equal(Tunables.MaxLimit, after.AllocHit - freed.AllocHit);
        Assert.Equal(freed.AllocMiss, after.AllocMiss);
        Assert.Equal(freed.FreeHit, after.FreeHit);
        Assert.Equal(objs.OrderBy(p => p), again.OrderBy(p => p));
        TestSupport.FreeAll(cache, again);
        TestSupport.AssertBalanced(cache, 0);
    }
}
