using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using SlabGen.Core;
using SlabGen.Policy;
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

    /// <summary>
    /// Runs <paramref name="owner"/> on a thread of its own; each time it calls the step it is given, the test thread
    /// runs the next of <paramref name="steps"/> while the owner waits. The owner thread has exited when this returns.
    /// </summary>
    private static void Interleave(Action<Action> owner, params Action[] steps)
    {
        using var ownerTurn = new SemaphoreSlim(0);
        using var testTurn = new SemaphoreSlim(0);
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                owner(() =>
                {
                    testTurn.Release();
                    if (!ownerTurn.Wait(TimeSpan.FromSeconds(30)))
                        throw new TimeoutException("the test thread never handed the turn back");
                });
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                testTurn.Release(steps.Length + 1); // never leave the test thread waiting
            }
        }) { IsBackground = true }; // a failed step must not keep the test host alive while the owner times out
        thread.Start();
        foreach (Action step in steps)
        {
            Assert.True(testTurn.Wait(TimeSpan.FromSeconds(30)), "the owner thread never handed the turn over");
            if (failure != null)
                break;
            step();
            ownerTurn.Release();
        }
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the owner thread did not finish");
        Assert.Null(failure);
    }

    /// <summary>This thread's magazine for <paramref name="cache"/>, live.</summary>
    private static Magazine* OwnLiveMagazine(SlabCache cache)
    {
        Magazine* m = Magazine.FromEntry(ThreadMagazines.t_table, ThreadMagazines.t_table[cache.Fast.Slot]);
        Assert.Equal(cache.Fast.Tag, m->Tag);
        return m;
    }

    [Fact]
    public void A_stealer_leaves_the_top_object_to_an_allocation_in_flight()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("mag_inflight_alloc"), 64, flags: SlabFlags.Panic)!;
        nint popped = 0;
        int held = 0;
        Interleave(step =>
        {
            TestSupport.Churn(cache, 10);
            // The real fast path's first half: the tag was live, the top entry and its mark are read.
            OwnLiveMagazine(cache);
            Assert.True(cache.Fast.PeekAlloc(ThreadMagazines.t_table, out Magazine* m, out long count, out void* top));
            popped = (nint)top;
            held = Magazine.AvailOf(count);
            Assert.True(held >= 3);
            step(); // the test thread shrinks the cache
            Assert.True(cache.Fast.CommitAlloc(m, count, (void*)popped) == (void*)popped); // the allocation completes
            *(long*)popped = 0x5eed;
            step(); // the test thread checks that nobody else has the object
            cache.Free((void*)popped); // the retired magazine is given up, a new one takes the object
        },
        () =>
        {
            cache.Shrink();
            Assert.Equal(1, cache.CachedObjects()); // only the top entry stays
            Assert.Equal(1, cache.GetSlabInfo().NumSlabs);
        },
        () =>
        {
            Assert.Equal(0, cache.CachedObjects());
            TestSupport.AssertBalanced(cache, live: 1);
            nint[] others = TestSupport.AllocMany(cache, 2 * cache.ObjectsPerSlab);
            Assert.DoesNotContain(popped, others);
            Assert.Equal(0x5eed, *(long*)popped);
            TestSupport.FreeAll(cache, others);
        });
        Assert.True(held >= 3);

        cache.Shrink(); // the owner has exited: its new magazine goes back whole
        Assert.Equal(0, cache.CachedObjects());
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
        SlabStatistics stats = cache.GetStatistics();
        Assert.Equal(stats.Allocations, stats.Frees);
    }

    [Fact]
    public void An_allocation_in_flight_across_a_destroy_is_undone_and_nothing_is_left_behind()
    {
        SlabCache cache = SlabCache.Create(TestSupport.Name("mag_inflight_destroy"), 64, flags: SlabFlags.Panic)!;
        int slot = cache.Slot;
        Exception? afterwards = null;
        Interleave(step =>
        {
            TestSupport.Churn(cache, 10);
            Assert.True(cache.Fast.PeekAlloc(ThreadMagazines.t_table, out Magazine* m, out long count, out void* popped));
            step(); // the test thread destroys the cache: every object is back, this one too
            Assert.True(cache.Fast.CommitAlloc(m, count, popped) == null, "the pop must be undone");
            try
            {
                cache.Alloc(); // what the caller's Alloc does next: the slow path
            }
            catch (Exception e)
            {
                afterwards = e;
            }
        },
        () =>
        {
            cache.Dispose(); // live is 0: the object being popped still counts as cached
            Assert.True(cache.IsDisposed);
            Assert.Equal(0, cache.Pages.Blocks); // no slab left behind
        });
        Assert.IsType<ObjectDisposedException>(afterwards);
        Assert.NotSame(cache, CacheChain.BySlot(slot)); // out of the chain (another test may have the slot by now)
    }

    [Fact]
    public void An_allocation_in_flight_that_destroy_sees_completed_makes_destroy_refuse()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("mag_inflight_refuse"), 64, flags: SlabFlags.Panic)!;
        Interleave(step =>
        {
            TestSupport.Churn(cache, 10);
            Assert.True(cache.Fast.PeekAlloc(ThreadMagazines.t_table, out Magazine* m, out long count, out void* popped));
            Assert.True(cache.Fast.CommitAlloc(m, count, popped) == popped);
            step(); // the test thread tries to destroy the cache, and must refuse: the object is allocated
            cache.Free(popped);
        },
        () => Assert.Contains("1 object is still allocated", Assert.Throws<InvalidOperationException>(() => cache.Dispose()).Message));
        Assert.False(cache.IsDisposed);
        TestSupport.AssertBalanced(cache, live: 0);
    }

    [Fact]
    public void A_stealer_leaves_room_for_a_free_in_flight()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("mag_inflight_free"), 64, flags: SlabFlags.Panic)!;
        Interleave(step =>
        {
            TestSupport.Churn(cache, 10);
            void* obj = cache.Alloc();
            // The real fast path's first half: the tag was live, there is room, the object is not marked free.
            OwnLiveMagazine(cache);
            Assert.True(cache.Fast.PeekFree(ThreadMagazines.t_table, cache.Fast.Slot, obj, out Magazine* m, out long count, out ulong key));
            Assert.True(Magazine.AvailOf(count) >= 2);
            step(); // the test thread shrinks the cache
            cache.Fast.CommitFree(m, count, obj, key); // the free completes, into the retired magazine
            step(); // the test thread counts the object as cached
            Assert.Equal(cache.Fast.Tag | Magazine.RetiredBit, m->Tag);
            TestSupport.Churn(cache, 3); // the owner comes back: what the magazine held goes back to the slabs
            Assert.Equal(0, cache.GetStatistics().Allocations - cache.GetStatistics().Frees);
        },
        () =>
        {
            cache.Shrink();
            Assert.Equal(1, cache.CachedObjects());
            TestSupport.AssertBalanced(cache, live: 1);
        },
        () =>
        {
            Assert.Equal(2, cache.CachedObjects()); // the entry left below it, and the object just freed
            TestSupport.AssertBalanced(cache, live: 0);
        });

        cache.Shrink();
        Assert.Equal(0, cache.CachedObjects());
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
        Assert.Equal(0, cache.Magazines.Count); // the exited owner's magazine was given up whole
    }

    [Fact]
    public void Shrink_takes_everything_from_its_own_thread_and_from_exited_threads()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("mag_quiet"), 64, flags: SlabFlags.Panic)!;
        var worker = new Thread(() => TestSupport.Churn(cache, 300));
        worker.Start();
        Assert.True(worker.Join(TimeSpan.FromSeconds(30)), "a thread did not finish");
        TestSupport.Churn(cache, 300);
        Assert.True(cache.CachedObjects() > 0);
        cache.Shrink();
        Assert.Equal(0, cache.CachedObjects());
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
        TestSupport.AssertBalanced(cache, live: 0);
    }

    [Fact]
    public void A_retired_magazine_of_an_idle_thread_gives_back_what_is_left_when_its_owner_returns()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("mag_return"), 64, flags: SlabFlags.Panic)!;
        var kept = new List<nint>();
        Interleave(step =>
        {
            TestSupport.Churn(cache, 100);
            step(); // the test thread shrinks: one object stays in this idle thread's magazine
            kept.Add((nint)cache.Alloc()); // back again: the retired magazine is given up, a new one made
            Assert.Equal(cache.Fast.Tag, OwnLiveMagazine(cache)->Tag);
            step(); // the test thread checks the balance
            cache.Free((void*)kept[0]);
        },
        () =>
        {
            cache.Shrink();
            Assert.Equal(1, cache.CachedObjects());
            Assert.Equal(1, cache.Magazines.Count); // retired, and still the owner's to give up
        },
        () => TestSupport.AssertBalanced(cache, live: 1));
        cache.Shrink();
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
    }
}
