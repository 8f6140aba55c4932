using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using SlabGen.Core;
using Xunit;
using Xunit.Abstractions;

namespace SlabGen.Tests;

/// <summary>The pressure levels against ArrayPool's thresholds; no process state.</summary>
public class MemoryPressureLevelTests
{
    [Theory]
    [InlineData(0, 100, "Low")]
    [InlineData(69, 100, "Low")]
    [InlineData(70, 100, "Medium")]
    [InlineData(89, 100, "Medium")]
    [InlineData(90, 100, "High")]
    [InlineData(95, 100, "High")]
    [InlineData(150, 100, "High")]
    [InlineData(50, 0, "Low")] // no GC has run: no threshold known
    [InlineData(22_000_000_000, 24_000_000_000, "High")]
    [InlineData(17_000_000_000, 24_000_000_000, "Medium")]
    public void Levels_follow_the_load_against_70_and_90_percent_of_the_high_threshold(long load, long threshold, string expected)
        => Assert.Equal(expected, MemoryPressure.LevelOf(new MemoryLoad(load, threshold), 70, 90).ToString());

    [Fact]
    public void Configured_thresholds_move_the_levels()
    {
        Assert.Equal(PressureLevel.Medium, MemoryPressure.LevelOf(new MemoryLoad(55, 100), 50, 60));
        Assert.Equal(PressureLevel.High, MemoryPressure.LevelOf(new MemoryLoad(60, 100), 50, 60));
    }
}

/// <summary>
/// Trims under simulated memory load (the test hook), through the gen-2 GC callback, and the process's RSS after a
/// 1 GiB burst. They change process-wide state (the hook, the reaper), so they run alone.
/// </summary>
[Collection(SerialCollection.Name)]
public unsafe class MemoryPressureTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static Func<MemoryLoad> Load(int percent) => () => new MemoryLoad(percent * 1_000_000L, 100_000_000L);

    [Fact]
    public void High_pressure_shrinks_idle_caches_at_once_and_spares_busy_ones()
    {
        using var idle = SlabCache.Create(TestSupport.Name("pressure_idle"), 64)!;
        using var busy = SlabCache.Create(TestSupport.Name("pressure_busy"), 64)!;
        try
        {
            TestSupport.Churn(idle, 3000);
            TestSupport.Churn(busy, 3000);
            MemoryPressure.LoadOverride = Load(10);
            MemoryPressure.Trim(MemoryPressure.Current(), blocking: true); // low: one pass; both caches seen
            MemoryPressure.Trim(MemoryPressure.Current(), blocking: true);
            Assert.True(idle.CachedObjects() > 0, "two low passes should not empty an idle cache");
            Assert.True(idle.GetSlabInfo().NumSlabs > 0);

            TestSupport.Churn(busy, 3000);
            long shrunk = MemoryPressure.Shrunk;
            MemoryPressure.LoadOverride = Load(95);
            Assert.Equal(PressureLevel.High, MemoryPressure.Current());
            MemoryPressure.Trim(MemoryPressure.Current(), blocking: true);

            Assert.Equal(PressureLevel.High, MemoryPressure.LastLevel);
            Assert.Equal(0, idle.CachedObjects());
            Assert.Equal(0, idle.GetSlabInfo().NumSlabs);
            Assert.Equal(0, idle.Pages.Blocks);
            Assert.True(busy.CachedObjects() > 0, "a cache used since the last pass is reaped, not shrunk");
            Assert.True(MemoryPressure.Shrunk > shrunk);
            Assert.Equal(0, SlabAllocator.ResidentFreeBytes); // every resident free block went back to the OS
            TestSupport.AssertBalanced(idle, 0);
            TestSupport.AssertBalanced(busy, 0);
        }
        finally
        {
            MemoryPressure.LoadOverride = null;
        }
    }

    [Fact]
    public void Medium_pressure_drains_more_than_a_low_pass()
    {
        // One cache, filled the same way twice on the same CPU, so the two trims start from the same layers. Its
        // magazines are pinned at enable_cpucache's size for 64 bytes: an automatic grow queued by the first fill (or
        // a shrink by the reap passes) would otherwise resize them, on the thread pool, between the two halves.
        using var cache = SlabCache.Create(TestSupport.Name("pressure_levels"),
            new SlabCacheOptions { Size = 64, AutoTune = false })!;
        Assert.False(cache.AutoTuned);
        try
        {
            long lowTaken = 0, mediumTaken = 0;
            TestSupport.OnCpu(0, () =>
            {
                TestSupport.Churn(cache, 3000);
                cache.Reap(); // clears the touched flags, as a first timer pass would
                long before = cache.CachedObjects();
                MemoryPressure.Trim(PressureLevel.Low, blocking: true);
                lowTaken = before - cache.CachedObjects();
                cache.Shrink();

                TestSupport.Churn(cache, 3000);
                cache.Reap();
                before = cache.CachedObjects();
                MemoryPressure.LoadOverride = Load(75);
                Assert.Equal(PressureLevel.Medium, MemoryPressure.Current());
                MemoryPressure.Trim(MemoryPressure.Current(), blocking: true);
                mediumTaken = before - cache.CachedObjects();
            });
            Assert.True(lowTaken > 0);
            Assert.True(mediumTaken > lowTaken, $"medium took {mediumTaken}, low {lowTaken}");
        }
        finally
        {
            MemoryPressure.LoadOverride = null;
        }
    }

    [Fact]
    public void A_gen2_GC_runs_a_pass_at_the_current_pressure()
    {
        using var cache = SlabCache.Create(TestSupport.Name("pressure_gc"), 64)!;
        TimeSpan interval = SlabAllocator.ReapInterval;
        try
        {
            TestSupport.Churn(cache, 3000);
            MemoryPressure.Trim(PressureLevel.Low, blocking: true); // the cache is seen; unused from here on
            SlabAllocator.ReapInterval = TimeSpan.FromHours(1);    // no timer tick during the test
            SlabAllocator.PeriodicReap = true;
            MemoryPressure.LoadOverride = Load(95);
            long passes = MemoryPressure.GcPasses;

            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
            Assert.True(SpinWait.SpinUntil(() => MemoryPressure.GcPasses > passes, Deadline), "no pass followed the gen-2 GC");

            // Shrunk from a thread-pool thread: this thread's magazine keeps its top object (see SlabCache.Shrink).
            Assert.Equal(PressureLevel.High, MemoryPressure.LastLevel);
            Assert.True(cache.CachedObjects() <= 1, $"{cache.CachedObjects()} objects still cached");
            Assert.True(cache.GetSlabInfo().NumSlabs <= 1);
            TestSupport.AssertBalanced(cache, 0);
        }
        finally
        {
            SlabAllocator.PeriodicReap = false;
            SlabAllocator.ReapInterval = interval;
            MemoryPressure.LoadOverride = null;
        }
    }

    /// <summary>
    /// The measurement in docs/memory-pressure.md: 1 GiB of 4 KiB objects allocated, written and freed, then the time
    /// until the process's RSS (/proc/self/statm) is back within 32 MiB of where it was before the burst. With no
    /// load the 2-second timer gives the resident blocks back after two passes; with a simulated 95% load a gen-2 GC
    /// does it at once, and without any GC the next tick does.
    /// </summary>
    [Fact]
    public void Rss_comes_back_after_a_1_GiB_burst()
    {
        if (!File.Exists("/proc/self/statm"))
            return; // Linux only: RSS is read from procfs
        TimeSpan interval = SlabAllocator.ReapInterval;
        try
        {
            SlabAllocator.ReapInterval = TimeSpan.FromSeconds(2);
            SlabAllocator.PeriodicReap = true;

            Burst result = RunBurst("no load, timer only", Load(10), collect: false);
            Assert.True(result.Back, result.ToString());
            Assert.InRange(result.Passes, 1, 5); // the timer did it, at its second pass after the free (or third)

            SlabAllocator.ReapInterval = TimeSpan.FromHours(1); // only the GC's pass can do it
            result = RunBurst("95% load, a gen-2 GC", Load(95), collect: true);
            Assert.True(result.Back, result.ToString());
            Assert.True(result.GcPasses >= 1, result.ToString());

            SlabAllocator.ReapInterval = TimeSpan.FromSeconds(2);
            result = RunBurst("95% load, timer only", Load(95), collect: false);
            Assert.True(result.Back, result.ToString());
            Assert.InRange(result.Passes, 1, 2 * MemoryPressure.HighPasses); // one or two high trims of five passes
        }
        finally
        {
            SlabAllocator.PeriodicReap = false;
            SlabAllocator.ReapInterval = interval;
            MemoryPressure.LoadOverride = null;
        }
    }

    private readonly record struct Burst(string Case, bool Back, double Milliseconds, long RssBefore, long RssAfterFree, long RssEnd, long Passes, long GcPasses)
    {
        public override string ToString()
            => $"{Case}: RSS {RssBefore >> 20} MiB before, {RssAfterFree >> 20} MiB after the free, {RssEnd >> 20} MiB after "
                + $"{Milliseconds:F0} ms ({(Back ? "back" : "NOT back")}); {Passes} reap passes, {GcPasses} gen-2 GC passes";
    }

    private Burst RunBurst(string name, Func<MemoryLoad> load, bool collect)
    {
        const int ObjectSize = 4096;
        const int Objects = (1 << 30) / ObjectSize;
        const long Slack = 32L << 20;
        var objects = new nint[Objects];
        using var cache = SlabCache.Create(TestSupport.Name("rss_burst"), ObjectSize)!;
        MemoryPressure.LoadOverride = load;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = Rss();

        for (int i = 0; i < Objects; i++)
        {
            byte* p = (byte*)cache.Alloc();
            *p = (byte)i; // fault the page in
            objects[i] = (nint)p;
        }
        for (int i = 0; i < Objects; i++)
            cache.Free((void*)objects[i]);
        long passes = SlabAllocator.ReapPasses, gcPasses = MemoryPressure.GcPasses;
        var clock = Stopwatch.StartNew();
        long afterFree = Rss();
        if (collect)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
        }
        long now = afterFree;
        while (now > before + Slack && clock.Elapsed < Deadline)
        {
            Thread.Sleep(10); // polling RSS; the passes run on the timer or the thread pool
            now = Rss();
        }
        double elapsed = clock.Elapsed.TotalMilliseconds;
        // A pass counts itself once it is done, which can be just after RSS came down: wait for that count.
        if (collect)
            SpinWait.SpinUntil(() => MemoryPressure.GcPasses > gcPasses, Deadline);
        else
            SpinWait.SpinUntil(() => SlabAllocator.ReapPasses > passes, Deadline);
        var result = new Burst(name, now <= before + Slack, elapsed, before, afterFree, now,
            SlabAllocator.ReapPasses - passes, MemoryPressure.GcPasses - gcPasses);
        output.WriteLine(result.ToString());
        cache.Shrink();
        return result;
    }

    private static long Rss()
    {
        string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }
}
