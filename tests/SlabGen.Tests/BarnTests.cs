using System.Linq;
using System.Threading;
using Xunit;

namespace SlabGen.Tests;

/// <summary>The node barn: whole-magazine exchanges between thread magazines and a node's depot of full sheaves.</summary>
public unsafe class BarnTests
{
    // Limit 8, batch 4, no shared array: a magazine and a sheaf hold 8 objects, a full barn 10 sheaves (80).
    private static SlabCache Small(string name, SlabCacheOptions? options = null)
    {
        SlabCache cache = options == null
            ? SlabCache.Create(TestSupport.Name(name), 64)!
            : SlabCache.Create(TestSupport.Name(name), options)!;
        cache.Tune(8, 4, 0);
        return cache;
    }

    [Fact]
    public void A_full_magazine_goes_to_the_barn_whole_and_comes_back_whole()
    {
        using SlabCache cache = Small("barn_trade");
        // Each refill from the per-CPU array brings 4 objects: one is returned, three fill the magazine. After 40
        // allocations the magazine and the array are empty.
        nint[] first = TestSupport.AllocMany(cache, 40);
        SlabStatistics before = cache.GetStatistics();
        Assert.Equal(0, cache.CachedObjects());

        // Frees 9, 17, 25 and 33 find the magazine full and hand it to the barn: 4 sheaves, 8 left in the magazine.
        TestSupport.FreeAll(cache, first);
        SlabStatistics freed = cache.GetStatistics();
        Assert.Equal(4, freed.BarnPut - before.BarnPut);
        Assert.Equal(32, cache.BarnObjects(0));
        Assert.Equal(40, cache.CachedObjects());
        Assert.Equal(before.FreeMiss, freed.FreeMiss); // no per-CPU array was flushed
        Assert.Equal(40, freed.FreeHit - before.FreeHit);
        TestSupport.AssertBalanced(cache, 0);

        // The magazine's 8, then the barn's 4 sheaves: the same 40 objects, without a per-CPU array refill.
        nint[] second = TestSupport.AllocMany(cache, 40);
        SlabStatistics again = cache.GetStatistics();
        Assert.Equal(4, again.BarnGet - freed.BarnGet);
        Assert.Equal(freed.AllocMiss, again.AllocMiss);
        Assert.Equal(40, again.AllocHit - freed.AllocHit);
        Assert.Equal(first.OrderBy(p => p), second.OrderBy(p => p));
        Assert.Equal(0, cache.BarnObjects(0));
        TestSupport.FreeAll(cache, second);
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void A_full_barn_sends_further_frees_down_to_the_per_cpu_array()
    {
        using SlabCache cache = Small("barn_full");
        nint[] objs = TestSupport.AllocMany(cache, 100);
        SlabStatistics before = cache.GetStatistics();
        TestSupport.FreeAll(cache, objs);
        SlabStatistics after = cache.GetStatistics();
        Assert.Equal(10, after.BarnPut - before.BarnPut);
        Assert.Equal(80, cache.BarnObjects(0));
        Assert.True(after.FreeHit + after.FreeMiss - before.FreeHit - before.FreeMiss == 100);
        Assert.True(after.FreeMiss > before.FreeMiss, "the per-CPU array never had to flush");
        TestSupport.AssertBalanced(cache, 0);
        cache.Shrink();
        Assert.Equal(0, cache.BarnObjects(0));
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
    }

    [Fact]
    public void Tune_drains_the_barn_and_later_sheaves_have_the_new_limit()
    {
        using SlabCache cache = Small("barn_tune");
        TestSupport.Churn(cache, 60);
        Assert.True(cache.BarnObjects(0) > 0);
        cache.Tune(16, 8, 0);
        Assert.Equal(0, cache.BarnObjects(0));
        TestSupport.AssertBalanced(cache, 0);
        TestSupport.Churn(cache, 100);
        long held = cache.BarnObjects(0);
        Assert.True(held > 0 && held % 16 == 0, $"{held} objects in the barn");
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void An_idle_barn_gives_back_a_fifth_of_its_sheaves_per_reap()
    {
        using SlabCache cache = Small("barn_reap");
        TestSupport.Churn(cache, 88);
        Assert.Equal(80, cache.BarnObjects(0));
        cache.Reap(); // used since the last pass: only the touched flag clears
        Assert.Equal(80, cache.BarnObjects(0));
        cache.Reap();
        Assert.Equal(64, cache.BarnObjects(0));
        cache.Reap();
        Assert.Equal(48, cache.BarnObjects(0));
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void A_consumer_threads_full_magazines_feed_a_producer_thread_through_the_barn()
    {
        using SlabCache cache = Small("barn_pc");
        nint[] produced = TestSupport.AllocMany(cache, 80);
        var consumer = new Thread(() => TestSupport.FreeAll(cache, produced));
        consumer.Start();
        consumer.Join();
        Assert.True(cache.BarnObjects(0) >= 64, $"{cache.BarnObjects(0)} objects in the barn");

        // This thread's magazine is empty: the consumer's sheaves come back to it whole.
        SlabStatistics before = cache.GetStatistics();
        nint[] again = TestSupport.AllocMany(cache, 64);
        SlabStatistics after = cache.GetStatistics();
        Assert.Equal(8, after.BarnGet - before.BarnGet);
        Assert.Equal(before.AllocMiss, after.AllocMiss);
        Assert.Subset(produced.ToHashSet(), again.ToHashSet());
        TestSupport.FreeAll(cache, again);
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void Remote_frees_bypass_the_barn()
    {
        var topology = NodeTopology.Simulated(2, 2); // CPU 0 on node 0, CPU 1 on node 1
        using SlabCache cache = Small("barn_numa", new SlabCacheOptions { Size = 64, Topology = topology });
        nint[] fromNode0 = [];
        TestSupport.OnCpu(0, () => fromNode0 = TestSupport.AllocMany(cache, 80));
        TestSupport.OnCpu(1, () => TestSupport.FreeAll(cache, fromNode0));
        Assert.Equal(0, cache.BarnObjects(1)); // a node's barn holds only that node's objects
        Assert.True(cache.GetStatistics().RemoteFrees > 0);

        // Freed on their own node, they do go to its barn.
        TestSupport.OnCpu(0, () =>
        {
            nint[] local = TestSupport.AllocMany(cache, 80);
            TestSupport.FreeAll(cache, local);
        });
        Assert.True(cache.BarnObjects(0) > 0);
        Assert.Equal(0, cache.BarnObjects(1));
        TestSupport.AssertBalanced(cache, 0);
    }
}
