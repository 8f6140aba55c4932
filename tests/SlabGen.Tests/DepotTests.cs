using System;
using System.Linq;
using System.Threading;
using Xunit;

namespace SlabGen.Tests;

/// <summary>The node depot: whole-magazine exchanges between thread magazines and a node's depot of full magazines.</summary>
public unsafe class DepotTests
{
    // Limit 8, batch 4, no shared array: a magazine and a full magazine hold 8 objects, a full depot 10 full magazines (80).
    private static SlabCache Small(string name, SlabCacheOptions? options = null)
    {
        SlabCache cache = options == null
            ? SlabCache.Create(TestSupport.Name(name), 64)!
            : SlabCache.Create(TestSupport.Name(name), options)!;
        cache.Tune(8, 4, 0);
        return cache;
    }

    [Fact]
    public void A_full_magazine_goes_to_the_depot_whole_and_comes_back_whole()
    {
        using SlabCache cache = Small("depot_trade");
        // Each refill from the per-CPU array brings 4 objects: one is returned, three fill the magazine. After 40
        // allocations the magazine and the array are empty.
        nint[] first = TestSupport.AllocMany(cache, 40);
        SlabStatistics before = cache.GetStatistics();
        Assert.Equal(0, cache.CachedObjects());

        // Frees 9, 17, 25 and 33 find the magazine full and hand it to the depot: 4 full magazines, 8 left in the magazine.
        TestSupport.FreeAll(cache, first);
        SlabStatistics freed = cache.GetStatistics();
        Assert.Equal(4, freed.DepotPut - before.DepotPut);
        Assert.Equal(32, cache.Nodes[0].DepotObjects());
        Assert.Equal(40, cache.CachedObjects());
        Assert.Equal(before.FreeMiss, freed.FreeMiss); // no per-CPU array was flushed
        Assert.Equal(40, freed.FreeHit - before.FreeHit);
        TestSupport.AssertBalanced(cache, 0);

        // The magazine's 8, then the depot's 4 full magazines: the same 40 objects, without a per-CPU array refill.
        nint[] second = TestSupport.AllocMany(cache, 40);
        SlabStatistics again = cache.GetStatistics();
        Assert.Equal(4, again.DepotGet - freed.DepotGet);
        Assert.Equal(freed.AllocMiss, again.AllocMiss);
        Assert.Equal(40, again.AllocHit - freed.AllocHit);
        Assert.Equal(first.OrderBy(p => p), second.OrderBy(p => p));
        Assert.Equal(0, cache.Nodes[0].DepotObjects());
        TestSupport.FreeAll(cache, second);
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void A_full_depot_sends_further_frees_down_to_the_per_cpu_array()
    {
        using SlabCache cache = Small("depot_full");
        nint[] objs = TestSupport.AllocMany(cache, 100);
        SlabStatistics before = cache.GetStatistics();
        TestSupport.FreeAll(cache, objs);
        SlabStatistics after = cache.GetStatistics();
        Assert.Equal(10, after.DepotPut - before.DepotPut);
        Assert.Equal(80, cache.Nodes[0].DepotObjects());
        Assert.True(after.FreeHit + after.FreeMiss - before.FreeHit - before.FreeMiss == 100);
        Assert.True(after.FreeMiss > before.FreeMiss, "the per-CPU array never had to flush");
        TestSupport.AssertBalanced(cache, 0);
        cache.Shrink();
        Assert.Equal(0, cache.Nodes[0].DepotObjects());
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
    }

    [Fact]
    public void Tune_drains_the_depot_and_later_full_magazines_have_the_new_limit()
    {
        using SlabCache cache = Small("depot_tune");
        TestSupport.Churn(cache, 60);
        Assert.True(cache.Nodes[0].DepotObjects() > 0);
        cache.Tune(16, 8, 0);
        Assert.Equal(0, cache.Nodes[0].DepotObjects());
        TestSupport.AssertBalanced(cache, 0);
        TestSupport.Churn(cache, 100);
        long held = cache.Nodes[0].DepotObjects();
        Assert.True(held > 0 && held % 16 == 0, $"{held} objects in the depot");
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void An_idle_depot_gives_back_a_fifth_of_its_full_magazines_per_reap()
    {
        using SlabCache cache = Small("depot_reap");
        TestSupport.Churn(cache, 88);
        Assert.Equal(80, cache.Nodes[0].DepotObjects());
        cache.Reap(); // used since the last pass: only the touched flag clears
        Assert.Equal(80, cache.Nodes[0].DepotObjects());
        cache.Reap();
        Assert.Equal(64, cache.Nodes[0].DepotObjects());
        cache.Reap();
        Assert.Equal(48, cache.Nodes[0].DepotObjects());
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void A_consumer_threads_full_magazines_feed_a_producer_thread_through_the_depot()
    {
        using SlabCache cache = Small("depot_pc");
        nint[] produced = TestSupport.AllocMany(cache, 80);
        var consumer = new Thread(() => TestSupport.FreeAll(cache, produced));
        consumer.Start();
        Assert.True(consumer.Join(TimeSpan.FromSeconds(30)), "a thread did not finish");
        Assert.True(cache.Nodes[0].DepotObjects() >= 64, $"{cache.Nodes[0].DepotObjects()} objects in the depot");

        // This thread's magazine is empty: the consumer's full magazines come back to it whole.
        SlabStatistics before = cache.GetStatistics();
        nint[] again = TestSupport.AllocMany(cache, 64);
        SlabStatistics after = cache.GetStatistics();
        Assert.Equal(8, after.DepotGet - before.DepotGet);
        Assert.Equal(before.AllocMiss, after.AllocMiss);
        Assert.Subset(produced.ToHashSet(), again.ToHashSet());
        TestSupport.FreeAll(cache, again);
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void Remote_frees_bypass_the_depot()
    {
        var topology = NodeTopology.Simulated(2, 2); // CPU 0 on node 0, CPU 1 on node 1
        using SlabCache cache = Small("depot_numa", new SlabCacheOptions { Size = 64, Topology = topology });
        nint[] fromNode0 = [];
        TestSupport.OnCpu(0, () => fromNode0 = TestSupport.AllocMany(cache, 80));
        TestSupport.OnCpu(1, () => TestSupport.FreeAll(cache, fromNode0));
        Assert.Equal(0, cache.Nodes[1].DepotObjects()); // a node's depot holds only that node's objects
        Assert.True(cache.GetStatistics().RemoteFrees > 0);

        // Freed on their own node, they do go to its depot.
        TestSupport.OnCpu(0, () =>
        {
            nint[] local = TestSupport.AllocMany(cache, 80);
            TestSupport.FreeAll(cache, local);
        });
        Assert.True(cache.Nodes[0].DepotObjects() > 0);
        Assert.Equal(0, cache.Nodes[1].DepotObjects());
        TestSupport.AssertBalanced(cache, 0);
    }
}
