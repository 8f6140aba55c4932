using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using SlabGen.Core;
using SlabGen.Policy;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// Magazines sized to the load: a working set that overflows the magazines grows them (on the thread pool), idle
/// reap passes shrink them back to the table's size, and explicit tunables pin them.
/// </summary>
public unsafe class AutoTuneTests
{
    /// <summary>
    /// An auto-tuned cache whose tuner's clock stands still, so that every <see cref="MagazineTuner.GrowExchanges"/>
    /// exchanges after the first fall within the window however slowly a loaded machine runs the test.
    /// </summary>
    private static SlabCache Make(string prefix, int size = 64, bool autoTune = true)
    {
        SlabCache cache = SlabCache.Create(TestSupport.Name(prefix), new SlabCacheOptions { Size = size, AutoTune = autoTune, Flags = SlabFlags.Panic })!;
        cache.Tuner.Clock = static () => FrozenNow;
        return cache;
    }

    /// <summary>A time far from 0 (the tuner's "no window yet").</summary>
    private const long FrozenNow = 1L << 40;

    /// <summary>Allocates <paramref name="count"/> stamped objects, checks the stamps and frees them all: a burst that overflows a small magazine.</summary>
    private static void Burst(SlabCache cache, int count, HashSet<nint>? distinct = null)
    {
        var objs = new nint[count];
        for (int i = 0; i < count; i++)
        {
            var p = (long*)cache.Alloc();
            p[0] = (long)p ^ 0x5a5a;
            objs[i] = (nint)p;
        }
        if (distinct != null)
        {
            distinct.Clear();
            foreach (nint p in objs)
                Assert.True(distinct.Add(p), "an object was handed out twice");
        }
        foreach (nint p in objs)
        {
            Assert.Equal((long)p ^ 0x5a5a, *(long*)p);
            cache.Free((void*)p);
        }
    }

    /// <summary>Bursts until the cache's limit reaches at least <paramref name="atLeast"/>, for at most 20 seconds.</summary>
    private static void BurstUntilLimit(SlabCache cache, int burst, int atLeast)
    {
        var clock = Stopwatch.StartNew();
        while (cache.Limit < atLeast)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the limit stayed at {cache.Limit}, below {atLeast}, after 20 s of bursts");
            Burst(cache, burst);
        }
    }

    [Fact]
    public void A_burst_that_overflows_the_magazines_grows_them_until_it_fits_and_then_no_exchange_is_needed()
    {
        using SlabCache cache = Make("autotune_grow");
        int table = Tunables.LimitFor(cache.Size);
        Assert.True(cache.AutoTuned);
        Assert.Equal(table, cache.Limit);
        Assert.Equal(Tunables.AutoMaxLimit(cache.Size), cache.AutoMaxLimit);
        const int Working = 1024;
        Assert.True(cache.AutoMaxLimit >= Working, "the ceiling must hold the working set for this test");

        BurstUntilLimit(cache, Working, Working);
        Assert.True(cache.Limit <= cache.AutoMaxLimit);
        Assert.Equal(cache.Limit, cache.GetSlabInfo().Limit); // slabinfo's tunables show it
        Assert.Equal(Tunables.BatchCountFor(cache.Limit), cache.BatchCount);
        Assert.True(cache.GetStatistics().MagazineGrows >= 1);

        Burst(cache, Working); // settle: this thread's new magazine fills once
        Burst(cache, Working);
        SlabStatistics before = cache.GetStatistics();
        var distinct = new HashSet<nint>();
        for (int i = 0; i < 10; i++)
            Burst(cache, Working, distinct);
        SlabStatistics after = cache.GetStatistics();
        Assert.Equal(before.DepotGet + before.DepotPut, after.DepotGet + after.DepotPut);
        Assert.Equal(before.AllocMiss, after.AllocMiss);
        Assert.Equal(10 * Working, after.AllocHit - before.AllocHit);
        Assert.Equal(after.Allocations, after.Frees);
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void Idle_reap_passes_halve_the_limit_back_to_the_table_value_and_no_further()
    {
        using SlabCache cache = Make("autotune_shrink");
        int table = Tunables.LimitFor(cache.Size);
        BurstUntilLimit(cache, 1024, 4 * table);
        int grown = cache.Limit;
        WaitForNoGrowQueued(cache);
        grown = cache.Limit;

        cache.Reap(); // the first pass notes the operation count
        int passes = 0;
        var limits = new List<int> { cache.Limit };
        while (cache.Limit > table)
        {
            Assert.True(++passes <= 2 * 16, $"the limit did not come down to {table}: {string.Join(" -> ", limits)}");
            cache.Reap();
            if (cache.Limit != limits[^1])
                limits.Add(cache.Limit);
        }
        for (int i = 1; i < limits.Count; i++)
            Assert.Equal(Math.Max(limits[i - 1] / 2, table), limits[i]); // halved, never below the table
        Assert.Equal(limits.Count - 1, (int)cache.GetStatistics().MagazineShrinks);
        for (int i = 0; i < 6; i++)
            cache.Reap();
        Assert.Equal(table, cache.Limit);
        Assert.True(grown > table);
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void Operations_between_reap_passes_keep_the_grown_limit()
    {
        using SlabCache cache = Make("autotune_busy");
        BurstUntilLimit(cache, 1024, 2 * Tunables.LimitFor(cache.Size));
        WaitForNoGrowQueued(cache);
        int grown = cache.Limit;
        for (int i = 0; i < 8; i++)
        {
            cache.Free(cache.Alloc()); // busy: never idle
            cache.Reap();
        }
        Assert.Equal(grown, cache.Limit);
    }

    [Fact]
    public void Explicit_tunables_an_explicit_tune_or_the_switch_pin_the_limit()
    {
        using SlabCache given = SlabCache.Create(TestSupport.Name("autotune_given"), new SlabCacheOptions { Size = 64, Limit = 16, AutoTune = true, Flags = SlabFlags.Panic })!;
        using SlabCache off = Make("autotune_off", autoTune: false);
        using SlabCache tuned = Make("autotune_tuned");
        Assert.False(given.AutoTuned);
        Assert.False(off.AutoTuned);
        Assert.True(tuned.AutoTuned);
        tuned.Tune(40, 20, 2);
        Assert.False(tuned.AutoTuned);
        for (int i = 0; i < 300; i++)
        {
            Burst(given, 1024);
            Burst(off, 1024);
            Burst(tuned, 1024);
        }
        foreach (SlabCache c in new[] { given, off, tuned })
            WaitForNoGrowQueued(c); // none was queued: a pinned tuner never asks
        Assert.Equal(16, given.Limit);
        Assert.Equal(Tunables.LimitFor(64), off.Limit);
        Assert.Equal(40, tuned.Limit);
        foreach (SlabCache c in new[] { given, off, tuned })
        {
            Assert.Equal(0, c.GetStatistics().MagazineGrows);
            for (int i = 0; i < 4; i++)
                c.Reap();
            Assert.Equal(0, c.GetStatistics().MagazineShrinks);
        }
        Assert.Equal(40, tuned.Limit);
    }

    [Fact]
    public void Grows_while_two_threads_allocate_and_free_lose_and_duplicate_nothing()
    {
        using SlabCache cache = Make("autotune_threads");
        const int Working = 800, Rounds = 400;
        var failures = new List<Exception>();
        var sets = new HashSet<nint>[2];
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            try
            {
                sets[t] = new HashSet<nint>();
                for (int r = 0; r < Rounds; r++)
                    Burst(cache, Working, sets[t]);
            }
            catch (Exception e)
            {
                lock (failures)
                    failures.Add(e);
            }
        }) { IsBackground = true }).ToArray();
        foreach (Thread t in threads)
            t.Start();
        foreach (Thread t in threads)
            Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a bursting thread hung");
        Assert.Empty(failures);
        WaitForNoGrowQueued(cache);
        SlabStatistics stats = cache.GetStatistics();
        Assert.Equal(2L * Working * Rounds, stats.Allocations);
        Assert.Equal(stats.Allocations, stats.Frees);
        Assert.True(stats.MagazineGrows >= 1, $"two threads of {Working}-object bursts should have grown the magazines: {stats}");
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void A_cache_destroyed_with_a_grow_queued_is_left_alone_by_the_grow()
    {
        SlabCache cache = Make("autotune_destroyed");
        cache.Dispose();
        Assert.False(cache.AutoGrow()); // what the queued work item runs: nothing, no exception
    }

    [Fact]
    public void The_tuner_asks_for_a_grow_only_for_a_burst_of_exchanges_within_the_window()
    {
        long now = FrozenNow;
        var tuner = new MagazineTuner(tableLimit: 120, maxLimit: 2048, pinned: false) { Clock = () => now };
        int asks = 0;
        for (int i = 0; i < MagazineTuner.GrowExchanges; i++)
            asks += tuner.NoteExchange(120) ? 1 : 0;
        Assert.Equal(0, asks); // the first burst only opens a window
        for (int i = 0; i < MagazineTuner.GrowExchanges; i++)
            asks += tuner.NoteExchange(120) ? 1 : 0;
        Assert.Equal(1, asks);
        for (int i = 0; i < 4 * MagazineTuner.GrowExchanges; i++)
            asks += tuner.NoteExchange(120) ? 1 : 0;
        Assert.Equal(1, asks); // one grow queued at a time
        tuner.GrowDone(grown: true);
        Assert.Equal(1, tuner.Grows);
        Assert.False(tuner.NoteExchange(2048)); // at the ceiling

        Assert.Equal(new Tunables(240, 120, 8), tuner.Grown(new Tunables(120, 60, 8)));
        Assert.Equal(new Tunables(2048, 1024, 8), tuner.Grown(new Tunables(1500, 750, 8)));
        Assert.Null(tuner.Grown(new Tunables(2048, 1024, 8)));

        var slow = new MagazineTuner(120, 2048, pinned: false) { Clock = () => now };
        for (int burst = 0; burst < 3; burst++)
        {
            for (int i = 0; i < MagazineTuner.GrowExchanges; i++)
                Assert.False(slow.NoteExchange(120));
            now += MagazineTuner.GrowWindow + 1; // each burst just outside the last one's window
        }

        var pinned = new MagazineTuner(120, 2048, pinned: true);
        for (int i = 0; i < 4 * MagazineTuner.GrowExchanges; i++)
            Assert.False(pinned.NoteExchange(120));
        Assert.Null(pinned.Grown(new Tunables(120, 60, 8)));
    }

    [Fact]
    public void The_tuner_shrinks_after_two_idle_passes_toward_the_table_value()
    {
        var tuner = new MagazineTuner(tableLimit: 120, maxLimit: 2048, pinned: false);
        var t = new Tunables(960, 480, 8);
        Assert.Null(tuner.Reaped(t, 100)); // first look
        Assert.Null(tuner.Reaped(t, 100)); // idle once
        Assert.Equal(new Tunables(480, 240, 8), tuner.Reaped(t, 100)); // idle twice
        Assert.Null(tuner.Reaped(t, 100)); // the count starts again
        Assert.Null(tuner.Reaped(t, 101)); // busy
        Assert.Null(tuner.Reaped(t, 101));
        Assert.Equal(new Tunables(480, 240, 8), tuner.Reaped(t, 101));
        Assert.Null(tuner.Reaped(new Tunables(120, 60, 8), 101));
        Assert.Null(tuner.Reaped(new Tunables(120, 60, 8), 101));
        Assert.Equal(new Tunables(120, 60, 8), tuner.Reaped(new Tunables(200, 100, 8), 101)); // never below the table
    }

    [Theory]
    [InlineData(8, 4096)]
    [InlineData(64, 2048)]
    [InlineData(256, 512)]
    [InlineData(1024, 128)]
    [InlineData(4096, 32)]
    [InlineData(65536, 8)]
    [InlineData(200_000, 1)]
    public void The_ceiling_is_a_128_KiB_magazine_between_the_table_value_and_4096(int size, int ceiling)
        => Assert.Equal(ceiling, Tunables.AutoMaxLimit(size));

    /// <summary>Waits (bounded) until a grow queued by the last bursts has run, so the limit holds still.</summary>
    private static void WaitForNoGrowQueued(SlabCache cache)
    {
        var clock = Stopwatch.StartNew();
        while (cache.Tuner.GrowQueued)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "a queued grow did not run within 30 s");
            Thread.Sleep(5);
        }
    }
}
