using System;
using System.Collections.Generic;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// Seeded random alloc/free sequences against a reference set: after every phase the cache's counters and every
/// slabinfo column must agree with what the reference knows, and every live object must hold what was written.
/// </summary>
public unsafe class ModelTests
{
    [Theory]
    [InlineData(1, 24, false)]
    [InlineData(2, 64, false)]
    [InlineData(3, 200, true)]
    [InlineData(4, 1500, false)]
    [InlineData(5, 5000, true)]
    public void Random_sequences_keep_counters_slabinfo_and_contents_consistent(int seed, int size, bool withCtor)
    {
        var rng = new Random(seed);
        using var cache = SlabCache.Create(TestSupport.Name("model"), new SlabCacheOptions
        {
            Size = size,
            Ctor = !withCtor ? null : size == 200 ? &Construct200 : &Construct5000,
        })!;
        var live = new Dictionary<nint, long>();
        var order = new List<nint>();
        long allocs = 0, frees = 0, stamp = 0;

        for (int phase = 0; phase < 40; phase++)
        {
            int ops = rng.Next(1, 3000);
            double allocBias = rng.NextDouble();
            for (int i = 0; i < ops; i++)
            {
                if (order.Count == 0 || rng.NextDouble() < allocBias)
                {
                    long* p = (long*)cache.Alloc();
                    if (withCtor)
                        Assert.Equal(0x600D_C7A5L, p[(size / 8) - 1]); // the ctor's mark survives every reuse
                    Assert.False(live.ContainsKey((nint)p), "an object was handed out twice");
                    p[0] = ++stamp;
                    live[(nint)p] = stamp;
                    order.Add((nint)p);
                    allocs++;
                }
                else
                {
                    int at = rng.Next(order.Count);
                    nint p = order[at];
                    order[at] = order[^1];
                    order.RemoveAt(order.Count - 1);
                    Assert.Equal(live[p], *(long*)p);
                    live.Remove(p);
                    cache.Free((void*)p);
                    frees++;
                }
            }

            switch (rng.Next(6))
            {
                case 0:
                    cache.Shrink();
                    SlabInfoRow shrunk = cache.GetSlabInfo();
                    Assert.Equal(live.Count, shrunk.ActiveObjs); // nothing cached after a shrink
                    Assert.Equal(shrunk.NumSlabs, shrunk.ActiveSlabs); // and no free slabs
                    Assert.True(shrunk.NumObjs - shrunk.ActiveObjs < (long)shrunk.NumSlabs * shrunk.ObjPerSlab || live.Count == 0);
                    break;
                case 1:
                    cache.Reap();
                    break;
                case 2:
                    int limit = rng.Next(1, 200);
                    cache.Tune(limit, rng.Next(1, limit + 1), rng.Next(0, 9));
                    break;
            }

            SlabStatistics s = cache.GetStatistics();
            Assert.Equal(allocs, s.Allocations);
            Assert.Equal(frees, s.Frees);
            SlabInfoRow row = cache.GetSlabInfo();
            Assert.Equal(cache.Size, row.ObjSize);
            Assert.Equal(cache.ObjectsPerSlab, row.ObjPerSlab);
            Assert.Equal(1 << cache.Order, row.PagesPerSlab);
            Assert.Equal((cache.Limit, cache.BatchCount, cache.SharedFactor), (row.Limit, row.BatchCount, row.SharedFactor));
            Assert.True(row.NumObjs >= live.Count);
            Assert.True(row.SharedAvail <= (long)cache.SharedFactor * cache.BatchCount * cache.NodeCount);
            Assert.True(s.Grown >= row.NumSlabs);
            TestSupport.AssertBalanced(cache, live.Count);
            foreach (var (p, value) in live)
                Assert.Equal(value, *(long*)p);
        }

        foreach (nint p in order)
            cache.Free((void*)p);
        cache.Shrink();
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
    }

    // A ctor is not told the object size: one per size the model constructs, each marking the object's last long.
    private static void Construct200(void* p) => ((long*)p)[(200 / 8) - 1] = 0x600D_C7A5L;

    private static void Construct5000(void* p) => ((long*)p)[(5000 / 8) - 1] = 0x600D_C7A5L;
}
