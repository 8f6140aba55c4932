using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// The thread-bound handles (<see cref="SlabLocal{T}"/>, <see cref="SlabLocal"/>, <see cref="KmallocLocal"/>) and the
/// sized free: they skip lookups, never checks.
/// </summary>
public unsafe class LocalHandleTests
{
    [StructLayout(LayoutKind.Sequential, Size = 48)]
    private struct Item
    {
        public long Stamp;
    }

    private static SlabCache<Item> Make(string prefix)
        => SlabCache<Item>.Create(TestSupport.Name(prefix), new SlabCacheOptions { Limit = 8, BatchCount = 4, SharedFactor = 2, Flags = SlabFlags.Panic });

    [Fact]
    public void A_handle_serves_distinct_objects_from_the_magazine_and_the_counts_balance()
    {
        using SlabCache<Item> cache = Make("local_basic");
        var seen = new HashSet<nint>();
        var live = new List<nint>();
        SlabLocal<Item> local = cache.Local();
        Assert.Same(cache.Cache, local.Cache);
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < 50; i++)
            {
                Item* p = local.Alloc();
                Assert.True(cache.Cache.Contains(p));
                Assert.True(seen.Add((nint)p) || !live.Contains((nint)p), "an object was handed out twice");
                p->Stamp = (nint)p;
                live.Add((nint)p);
            }
            TestSupport.AssertBalanced(cache.Cache, live.Count);
            foreach (nint p in live)
            {
                Assert.Equal(p, ((Item*)p)->Stamp);
                local.Free((Item*)p);
            }
            live.Clear();
            TestSupport.AssertBalanced(cache.Cache, 0);
        }
        SlabStatistics stats = cache.Cache.GetStatistics();
        Assert.Equal(stats.Allocations, stats.Frees);
        Assert.Equal(20 * 50, stats.Allocations);
        Assert.True(stats.AllocHit > stats.AllocMiss, $"the handle's allocations should mostly hit its magazine: {stats}");
    }

    [Fact]
    public void A_handle_and_the_cache_share_one_magazine_so_objects_move_freely_between_them()
    {
        using SlabCache<Item> cache = Make("local_mixed");
        SlabLocal<Item> local = cache.Local();
        Item* a = local.Alloc();
        cache.Free(a);
        Item* b = cache.Alloc();
        Assert.Equal((nint)a, (nint)b); // LIFO through the same magazine
        local.Free(b);
        Item* c = local.Alloc();
        Assert.Equal((nint)a, (nint)c);
        cache.Free(c);
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public void A_handle_made_on_a_thread_that_never_allocated_still_uses_the_fast_path()
    {
        using SlabCache<Item> cache = Make("local_fresh");
        SlabStatistics before = default, after = default;
        Exception? thrown = TestSupport.OnThread(() =>
        {
            SlabLocal<Item> local = cache.Local(); // maps this thread's magazine table now
            Item* warm = local.Alloc();
            local.Free(warm);
            before = cache.Cache.GetStatistics();
            for (int i = 0; i < 1000; i++)
                local.Free(local.Alloc());
            after = cache.Cache.GetStatistics();
        }, "the handle's thread hung");
        Assert.Null(thrown);
        Assert.Equal(1000, after.AllocHit - before.AllocHit);
        Assert.Equal(1000, after.FreeHit - before.FreeHit);
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public void A_handle_refuses_foreign_pointers_and_double_frees_and_changes_nothing()
    {
        using SlabCache<Item> cache = Make("local_checks");
        using SlabCache<Item> other = Make("local_other");
        SlabLocal<Item> local = cache.Local();
        Item* mine = local.Alloc();
        Item* theirs = other.Alloc();
        var e = Assert.Throws<ArgumentException>(() => cache.Local().Free(theirs));
        Assert.Contains(cache.Name, e.Message);
        Assert.Contains(other.Name, e.Message);
        Assert.Throws<ArgumentException>(() => cache.Local().Free((Item*)((byte*)mine + 8)));
        local.Free(mine);
        var d = Assert.Throws<DoubleFreeException>(() => cache.Local().Free(mine));
        Assert.Contains(cache.Name, d.Message);
        local.Free(null);
        other.Free(theirs);
        TestSupport.AssertBalanced(cache.Cache, 0);
        TestSupport.AssertBalanced(other.Cache, 0);
        Item* x = local.Alloc(), y = local.Alloc();
        Assert.NotEqual((nint)x, (nint)y); // the refused double free did not put the object in twice
        local.Free(x);
        local.Free(y);
    }

    [Fact]
    public void A_handle_keeps_working_while_the_cache_is_retuned_and_shrunk_under_it()
    {
        using SlabCache<Item> cache = Make("local_tune");
        SlabLocal<Item> local = cache.Local();
        var live = new List<nint>();
        for (int i = 0; i < 100; i++)
            live.Add((nint)local.Alloc());
        cache.Cache.Tune(32, 16, 2);
        for (int i = 0; i < 50; i++)
            local.Free((Item*)live[i]);
        cache.Cache.Shrink();
        for (int i = 0; i < 50; i++)
            live[i] = (nint)local.Alloc();
        cache.Cache.Tune(4, 2, 0);
        Assert.Equal(live.Count, new HashSet<nint>(live).Count);
        TestSupport.AssertBalanced(cache.Cache, live.Count);
        foreach (nint p in live)
            local.Free((Item*)p);
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public void A_handle_of_a_destroyed_cache_throws_object_disposed()
    {
        SlabCache<Item> cache = Make("local_disposed");
        SlabLocal<Item> local = cache.Local();
        Item* p = local.Alloc();
        local.Free(p);
        string name = cache.Name;
        cache.Dispose();
        // The handle made before the destroy (a lambda cannot capture a ref struct, hence the try blocks).
        ObjectDisposedException? onAlloc = null, onFree = null;
        try
        {
            local.Alloc();
        }
        catch (ObjectDisposedException e)
        {
            onAlloc = e;
        }
        try
        {
            local.Free(p);
        }
        catch (ObjectDisposedException e)
        {
            onFree = e;
        }
        Assert.NotNull(onAlloc);
        Assert.Contains(name, onAlloc.Message);
        Assert.NotNull(onFree);
        Assert.Contains(name, Assert.Throws<ObjectDisposedException>(() => cache.Local()).Message);
    }

    [Fact]
    public void A_default_handle_is_bound_to_nothing_and_says_so()
    {
        SlabLocal<Item> typed = default;
        Assert.Contains("default", Assert.Throws<InvalidOperationException>(() => default(SlabLocal<Item>).Alloc()).Message);
        Assert.Throws<InvalidOperationException>(() => default(SlabLocal).Alloc());
        Assert.Throws<InvalidOperationException>(() => default(SlabLocal).Cache);
        using SlabCache<Item> cache = Make("local_default");
        Item* p = cache.Alloc();
        Assert.Throws<InvalidOperationException>(() => default(SlabLocal<Item>).Free(p));
        Assert.Throws<InvalidOperationException>(() => default(SlabLocal).Free(p));
        typed.Free(null);
        cache.Free(p); // the refused frees left it allocated
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public void The_untyped_handle_serves_and_checks_like_the_cache()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("local_untyped"), new SlabCacheOptions { Size = 40, Flags = SlabFlags.Panic })!;
        SlabLocal local = cache.Local();
        var objs = new nint[300];
        for (int i = 0; i < objs.Length; i++)
            objs[i] = (nint)local.Alloc();
        Assert.Equal(objs.Length, new HashSet<nint>(objs).Count);
        TestSupport.AssertBalanced(cache, objs.Length);
        foreach (nint p in objs)
            local.Free((void*)p);
        Assert.Throws<DoubleFreeException>(() => cache.Local().Free((void*)objs[0]));
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void A_handle_of_a_debug_cache_takes_the_checked_path_and_still_catches_a_double_free()
    {
        using SlabCache<Item> cache = SlabCache<Item>.Create(TestSupport.Name("local_debug"),
            new SlabCacheOptions { Flags = SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison });
        SlabLocal<Item> local = cache.Local();
        var objs = new nint[40];
        for (int i = 0; i < objs.Length; i++)
        {
            Item* p = local.Alloc();
            Assert.True(cache.Contains(p));
            p->Stamp = i;
            objs[i] = (nint)p;
        }
        Assert.Equal(objs.Length, new HashSet<nint>(objs).Count);
        foreach (nint p in objs)
            local.Free((Item*)p);
        Assert.Throws<DoubleFreeException>(() => cache.Local().Free((Item*)objs[0]));
        Assert.Throws<ArgumentException>(() => cache.Local().Free((Item*)(objs[1] + 8)));
        SlabStatistics stats = cache.GetStatistics();
        Assert.Equal(stats.Allocations, stats.Frees);
        Assert.Equal(0, cache.Validate());
    }

    [Fact]
    public void The_handle_of_a_ctor_cache_refuses_use_from_inside_the_ctor()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("local_ctor"), new SlabCacheOptions
        {
            Size = 32,
            Flags = SlabFlags.Panic,
            Ctor = &CtorThatAllocates,
        })!;
        s_ctorCache = cache;
        s_ctorThrown = null;
        void* p = cache.Alloc();
        Assert.IsType<InvalidOperationException>(s_ctorThrown);
        cache.Free(p);
        s_ctorCache = null;
    }

    private static SlabCache? s_ctorCache;
    private static Exception? s_ctorThrown;

    private static void CtorThatAllocates(void* obj)
    {
        if (s_ctorCache == null || s_ctorThrown != null)
            return;
        try
        {
            SlabLocal local = s_ctorCache.Local();
            local.Alloc();
        }
        catch (Exception e)
        {
            s_ctorThrown = e;
        }
    }
}
