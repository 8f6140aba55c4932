using System;
using System.Threading;
using Xunit;

namespace SlabGen.Tests;

public unsafe class ReapTests
{
    [Fact]
    public void Untouched_arrays_drain_a_fifth_per_pass_and_idle_free_slabs_go_back()
    {
        using var cache = SlabCache.Create(TestSupport.Name("reap"), 64)!;
        TestSupport.Churn(cache, 2000);
        long cachedFull = cache.CachedObjects();
        Assert.True(cachedFull > 0);
        cache.Reap(); // first pass: arrays were touched since creation, so only the touched flags clear
        long afterFirst = cache.CachedObjects();
        Assert.True(afterFirst <= cachedFull);
        long previous = afterFirst;
        for (int pass = 0; pass < 60 && previous > 0; pass++)
        {
            cache.Reap();
            long now = cache.CachedObjects();
            Assert.True(now < previous, $"pass {pass}: {now} cached, {previous} before");
            previous = now;
            TestSupport.AssertBalanced(cache, 0);
        }
        Assert.Equal(0, previous);
        for (int pass = 0; pass < 30 && cache.GetSlabInfo().NumSlabs > 0; pass++)
            cache.Reap();
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
        Assert.True(cache.GetStatistics().Reaped > 0);
    }

    [Fact]
    public void A_busy_cache_keeps_its_objects_through_a_reap()
    {
        using var cache = SlabCache.Create(TestSupport.Name("busy"), 64)!;
        TestSupport.Churn(cache, 300);
        cache.Reap();
        long cached = cache.CachedObjects();
        TestSupport.Churn(cache, 300); // takes from and gives to the magazine and the depot again
        cache.Reap();
        Assert.True(cache.CachedObjects() >= cached - 60, "a touched cache lost more than one batch");
    }
}

[Collection(SerialCollection.Name)]
public unsafe class ReapTimerTests
{
    [Fact]
    public void The_background_reaper_runs_passes_and_can_be_turned_off()
    {
        using var cache = SlabCache.Create(TestSupport.Name("timer"), 64)!;
        TestSupport.Churn(cache, 500);
        TimeSpan interval = SlabAllocator.ReapInterval;
        try
        {
            SlabAllocator.ReapInterval = TimeSpan.FromMilliseconds(20);
            long start = SlabAllocator.ReapPasses;
            SlabAllocator.PeriodicReap = true;
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (cache.CachedObjects() > 1 && DateTime.UtcNow < deadline)
                Thread.Sleep(20);
            Assert.True(SlabAllocator.ReapPasses > start);
            // The reaper is another thread: it leaves this thread's magazine the top object, which an allocation of
            // this thread could have been popping while the reaper took the rest.
            Thread.Sleep(200);
            Assert.Equal(1, cache.CachedObjects());
        }
        finally
        {
            SlabAllocator.PeriodicReap = false;
            SlabAllocator.ReapInterval = interval;
        }
        Thread.Sleep(100); // a pass that had started may finish
        long stopped = SlabAllocator.ReapPasses;
        Thread.Sleep(200);
        Assert.Equal(stopped, SlabAllocator.ReapPasses);
        cache.Reap(); // on the owner's own thread no operation can be in flight: the last object goes back too
        Assert.Equal(0, cache.CachedObjects());
        TestSupport.AssertBalanced(cache, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => SlabAllocator.ReapInterval = TimeSpan.Zero);
    }

    [Fact]
    public void A_reap_pass_keeps_a_touched_per_cpu_array_whole_and_drains_it_when_untouched()
    {
        TestSupport.OnCpu(0, () =>
        {
            // Limit 4, batch 2, a shared array of 4: 53 objects freed in order leave 4 in CPU 0's array (see DoubleFreeTests).
            using SlabCache cache = SlabCache.Create(TestSupport.Name("reap_touched"),
                new SlabCacheOptions { Size = 64, Limit = 4, BatchCount = 2, SharedFactor = 2, Flags = SlabFlags.Panic })!;
            nint keep = (nint)cache.Alloc();
            TestSupport.FreeAll(cache, TestSupport.AllocMany(cache, 53)); // the allocations touched the array
            Assert.Equal(4, cache.CachedObjectsByLayer().CpuArrays);
            cache.Reap(); // touched since the last pass: only the flag clears (drain_array's "touched" test)
            Assert.Equal(4, cache.CachedObjectsByLayer().CpuArrays);
            cache.Reap(); // untouched: (limit + 4) / 5 = 1 object goes back
            Assert.Equal(3, cache.CachedObjectsByLayer().CpuArrays);
            cache.Free((void*)keep);
        });
    }

    [Fact]
    public void Reap_passes_age_resident_free_blocks_back_to_the_OS()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("reap_resident"), 64, flags: SlabFlags.Panic)!;
        nint[] objs = TestSupport.AllocMany(cache, 40 * cache.ObjectsPerSlab);
        TestSupport.FreeAll(cache, objs);
        cache.Reap();
        for (int pass = 0; pass < 40 && cache.GetSlabInfo().NumSlabs > 0; pass++)
            cache.Reap(); // free slabs beyond free_limit, then idle ones, go back to the page source: resident for reuse
        Assert.True(cache.Pages.Resident.Count > 0, "no freed block stayed resident");
        SlabAllocator.ReapNow(); // the first aging marks them idle
        SlabAllocator.ReapNow(); // the second gives back those idle for a whole pass
        Assert.Empty(cache.Pages.Resident);
    }
}
