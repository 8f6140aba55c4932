using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using SlabGen.PageAlloc;
using Xunit;

namespace SlabGen.Tests;

public unsafe class SlabCacheTests
{
    [Fact]
    public void Create_reports_its_geometry_and_tuned_limits()
    {
        using var cache = SlabCache.Create(TestSupport.Name("geometry"), 50, flags: SlabFlags.Panic)!;
        Assert.Equal(50, cache.ObjectSize);
        Assert.Equal(56, cache.Size);
        Assert.Equal(8, cache.Align);
        Assert.Equal(0, cache.Order);
        Assert.Equal(4096 / 56, cache.ObjectsPerSlab);
        Assert.Equal(120, cache.Limit);
        Assert.Equal(60, cache.BatchCount);
        Assert.Equal(cache.Topology.CpuCount > 1 ? 8 : 0, cache.SharedFactor); // the cache's own topology decides
        Assert.Contains(cache, SlabAllocator.Caches);
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_cache_and_leave_no_cache_behind()
    {
        string name = TestSupport.Name("bad");
        Assert.Contains(name, Assert.ThrowsAny<ArgumentException>(() => SlabCache.Create(name, 0)).Message);
        Assert.Contains(name, Assert.ThrowsAny<ArgumentException>(() => SlabCache.Create(name, 64, align: 48)).Message);
        Assert.Contains(name, Assert.ThrowsAny<ArgumentException>(() => SlabCache.Create(name, 64, align: 8192)).Message);
        Assert.Contains(name, Assert.ThrowsAny<ArgumentException>(() => SlabCache.Create(name, new SlabCacheOptions { Size = 64, Limit = 10, BatchCount = 11 })).Message);
        Assert.ThrowsAny<ArgumentException>(() => SlabCache.Create("has space", 64));
        Assert.ThrowsAny<ArgumentException>(() => SlabCache.Create("", 64));
        Assert.Null(SlabAllocator.Find(name));
        using var first = SlabCache.Create(name, 64)!;
        Assert.Contains("already exists", Assert.Throws<ArgumentException>(() => SlabCache.Create(name, 32)).Message);
    }

    [Fact]
    public void Explicit_tunables_at_creation_replace_the_table()
    {
        using var cache = SlabCache.Create(TestSupport.Name("explicit"), new SlabCacheOptions { Size = 64, Limit = 16, BatchCount = 4, SharedFactor = 2 })!;
        Assert.Equal((16, 4, 2), (cache.Limit, cache.BatchCount, cache.SharedFactor));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 8)]
    public void A_limit_without_a_shared_factor_leaves_the_shared_factor_to_the_cpu_count(int cpus, int expected)
    {
        // What generated caches rely on: they pass Limit and BatchCount, and SharedFactor only when the user set it.
        using var cache = SlabCache.Create(TestSupport.Name("limit_only"),
            new SlabCacheOptions { Size = 64, Limit = 40, BatchCount = 20, Topology = NodeTopology.Simulated(1, cpus) })!;
        Assert.Equal((40, 20, expected), (cache.Limit, cache.BatchCount, cache.SharedFactor));
    }

    [Fact]
    public void HwCacheAlign_gives_cache_line_aligned_objects()
    {
        using var cache = SlabCache.Create(TestSupport.Name("hwalign"), 24, flags: SlabFlags.HwCacheAlign)!;
        Assert.Equal(64, cache.Size);
        var objs = new List<nint>();
        for (int i = 0; i < 200; i++)
        {
            void* p = cache.Alloc();
            Assert.Equal(0, (nint)p % 64);
            objs.Add((nint)p);
        }
        foreach (nint p in objs)
            cache.Free((void*)p);
    }

    private static int s_ctorCalls;

    private static void CountingCtor(void* p)
    {
        Interlocked.Increment(ref s_ctorCalls);
        *(long*)p = 0x0C0FFEE;
        ((long*)p)[7] = 0x0C0FFEE;
    }

    [Fact]
    public void The_ctor_runs_when_a_slab_is_populated_and_constructed_state_survives_free()
    {
        using var cache = SlabCache.Create(TestSupport.Name("ctor"), 64, ctor: &CountingCtor)!;
        int before = Volatile.Read(ref s_ctorCalls);
        var objs = new List<nint>();
        for (int i = 0; i < 3 * cache.ObjectsPerSlab; i++)
        {
            long* p = (long*)cache.Alloc();
            Assert.Equal(0x0C0FFEE, p[0]);
            Assert.Equal(0x0C0FFEE, p[7]);
            objs.Add((nint)p);
        }
        long grown = cache.GetStatistics().Grown;
        Assert.Equal(grown * cache.ObjectsPerSlab, Volatile.Read(ref s_ctorCalls) - before);
        foreach (nint p in objs)
            cache.Free((void*)p);
        cache.Shrink(); // pushes every object through the slab freelists, which must not touch the object
        for (int round = 0; round < 3; round++)
        {
            objs.Clear();
            for (int i = 0; i < 3 * cache.ObjectsPerSlab; i++)
            {
                long* p = (long*)cache.Alloc();
                Assert.Equal(0x0C0FFEE, p[0]);
                Assert.Equal(0x0C0FFEE, p[7]);
                objs.Add((nint)p);
            }
            foreach (nint p in objs)
                cache.Free((void*)p);
        }
        Assert.Equal(cache.GetStatistics().Grown * cache.ObjectsPerSlab, Volatile.Read(ref s_ctorCalls) - before);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(24)]
    [InlineData(96)]
    [InlineData(192)]
    [InlineData(200)]
    [InlineData(1000)]
    [InlineData(3000)]
    [InlineData(5000)]
    public void Every_byte_of_a_slab_is_an_object_start_exactly_when_it_is_a_slot_boundary(int size)
    {
        using var cache = SlabCache.Create(TestSupport.Name("boundary"), size)!;
        byte* obj = (byte*)cache.Alloc();
        try
        {
            long slabBytes = 4096L << cache.Order;
            byte* slab = (byte*)((nuint)obj & ~(nuint)(slabBytes - 1));
            int starts = 0;
            for (long off = 0; off < slabBytes; off++)
            {
                bool expected = off % cache.Size == 0 && off / cache.Size < cache.ObjectsPerSlab;
                Assert.True(expected == cache.Contains(slab + off), $"offset {off} of a slab of {cache.Size}-byte objects");
                starts += expected ? 1 : 0;
            }
            Assert.Equal(cache.ObjectsPerSlab, starts);
        }
        finally
        {
            cache.Free(obj);
        }
    }

    [Fact]
    public void Free_null_does_nothing_and_foreign_pointers_are_refused_by_name()
    {
        string name = TestSupport.Name("foreign");
        using var cache = SlabCache.Create(name, 64)!;
        using var other = SlabCache.Create(TestSupport.Name("other"), 64)!;
        cache.Free(null);
        void* native = NativeMemory.Alloc(64);
        long onStack = 0;
        void* stackAddress = &onStack;
        void* mine = cache.Alloc();
        void* theirs = other.Alloc();
        try
        {
            Assert.Contains(name, Assert.Throws<ArgumentException>(() => cache.Free(native)).Message);
            Assert.Contains("never handed out", Assert.Throws<ArgumentException>(() => cache.Free(stackAddress)).Message);
            Assert.Contains("not the start of an object", Assert.Throws<ArgumentException>(() => cache.Free((byte*)mine + 8)).Message);
            Assert.Contains(other.Name, Assert.Throws<ArgumentException>(() => cache.Free(theirs)).Message);
            Assert.Throws<ArgumentException>(() => cache.Free(PageSource.Base + PageSource.ReserveBytes - 64));
            TestSupport.AssertBalanced(cache, live: 1);
        }
        finally
        {
            NativeMemory.Free(native);
            cache.Free(mine);
            other.Free(theirs);
        }
    }

    [Fact]
    public void Destroy_with_live_objects_says_how_many_and_keeps_the_cache()
    {
        string name = TestSupport.Name("leaky");
        var cache = SlabCache.Create(name, 128)!;
        var objs = new List<nint>();
        for (int i = 0; i < 300; i++)
            objs.Add((nint)cache.Alloc());
        for (int i = 0; i < 297; i++)
            cache.Free((void*)objs[i]);
        TestSupport.AssertBalanced(cache, live: 3);
        var e = Assert.Throws<InvalidOperationException>(cache.Dispose);
        TestSupport.AssertBalanced(cache, live: 3);
        Assert.Contains(name, e.Message);
        Assert.Contains("3 objects", e.Message);
        Assert.False(cache.IsDisposed);
        Assert.NotNull(SlabAllocator.Find(name));
        void* again = cache.Alloc(); // still usable
        cache.Free(again);
        TestSupport.AssertBalanced(cache, live: 3);
        for (int i = 297; i < 300; i++)
            cache.Free((void*)objs[i]);
        TestSupport.AssertBalanced(cache, live: 0);
        cache.Dispose();
        Assert.True(cache.IsDisposed);
        Assert.Null(SlabAllocator.Find(name));
        Assert.Equal(0, cache.Pages.Blocks);
        Assert.Throws<ObjectDisposedException>(() => cache.Alloc());
        cache.Dispose(); // twice is fine
        using var reborn = SlabCache.Create(name, 128)!; // the name is free again
        void* p = reborn.Alloc();
        Assert.Throws<ObjectDisposedException>(() => cache.Alloc()); // the old face never reaches the new cache
        reborn.Free(p);
    }

    [Fact]
    public void Shrink_after_freeing_everything_leaves_no_slabs()
    {
        using var cache = SlabCache.Create(TestSupport.Name("shrink"), 64)!;
        nint[] objs = TestSupport.AllocMany(cache, 5000);
        Assert.True(cache.GetSlabInfo().NumSlabs >= objs.Length / cache.ObjectsPerSlab);
        TestSupport.FreeAll(cache, objs);
        Assert.True(cache.Shrink() > 0);
        SlabInfoRow row = cache.GetSlabInfo();
        Assert.Equal((0L, 0L, 0L), (row.NumSlabs, row.ActiveObjs, row.SharedAvail));
        Assert.Equal(0, cache.Pages.Blocks);
        SlabStatistics s = cache.GetStatistics();
        Assert.Equal(objs.Length, s.Allocations);
        Assert.Equal(objs.Length, s.Frees);
    }

    [Fact]
    public void Statistics_count_every_operation_once()
    {
        using var cache = SlabCache.Create(TestSupport.Name("stats"), 32)!;
        for (int round = 0; round < 10; round++)
        {
            // More than a magazine, a full depot, a per-CPU array and a shared array hold together: every layer is used.
            TestSupport.Churn(cache, 2000);
        }
        SlabStatistics s = cache.GetStatistics();
        Assert.Equal(20000, s.Allocations);
        Assert.Equal(20000, s.Frees);
        Assert.True(s.AllocMiss > 0 && s.FreeMiss > 0 && s.AllocHit > s.AllocMiss);
        Assert.True(s.DepotGet > 0 && s.DepotPut > 0);
        Assert.True(s.Grown >= 2000 / cache.ObjectsPerSlab);
        TestSupport.AssertBalanced(cache, live: 0);
    }

    [Fact]
    public void A_dead_threads_magazine_goes_back_to_the_cache()
    {
        using var cache = SlabCache.Create(TestSupport.Name("threadexit"), 64)!;
        var t = new Thread(() => TestSupport.Churn(cache, 50));
        t.Start();
        Assert.True(t.Join(TimeSpan.FromSeconds(30)));
        // Its table's finalizer gives it back after a collection (unless a reap pass or Shrink elsewhere did first).
        for (int i = 0; i < 20 && cache.Magazines.Count > 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.Equal(0, cache.Magazines.Count);
        TestSupport.AssertBalanced(cache, live: 0);
    }

    [Fact]
    public void A_cache_made_after_another_is_destroyed_gets_its_own_magazine_on_a_thread_that_used_both()
    {
        // Destroying a cache retires the magazine each thread kept for it; a cache made next usually takes the
        // same slot, and the thread's first operation on it must replace the dead magazine, not use it.
        string? failure = null;
        var t = new Thread(() =>
        {
            try
            {
                var first = SlabCache.Create(TestSupport.Name("slot_first"), 64)!;
                nint[] objs = TestSupport.AllocMany(first, 50);
                TestSupport.FreeAll(first, objs);
                first.Dispose();

                using var second = SlabCache.Create(TestSupport.Name("slot_second"), 128)!;
                for (int round = 0; round < 3; round++)
                {
                    for (int i = 0; i < objs.Length; i++)
                    {
                        objs[i] = (nint)second.Alloc();
                        Assert.True(second.Contains((void*)objs[i]));
                        *(long*)objs[i] = round * 1000 + i;
                    }
                    for (int i = 0; i < objs.Length; i++)
                    {
                        Assert.Equal(round * 1000 + i, *(long*)objs[i]);
                        second.Free((void*)objs[i]);
                    }
                }
                Assert.Equal(1, second.Magazines.Count);
                Assert.Equal(150, second.GetStatistics().Allocations);
                TestSupport.AssertBalanced(second, live: 0);
            }
            catch (Exception e)
            {
                failure = e.ToString();
            }
        });
        t.Start();
        Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a thread did not finish");
        Assert.Null(failure);
    }

    [Fact]
    public void Typed_cache_and_rented_objects()
    {
        using var cache = SlabCache<Point3>.Create(TestSupport.Name("typed"), flags: SlabFlags.Panic);
        Assert.Equal(24, cache.Cache.ObjectSize);
        Point3* p = cache.Alloc();
        *p = new Point3 { X = 1, Y = 2, Z = 3 };
        cache.Free(p);
        using (SlabRef<Point3> r = cache.Rent())
        {
            r.Value.X = 42;
            Assert.Equal(42, r.Pointer->X);
        }
        SlabRef<Point3> disposed = cache.Rent();
        disposed.Dispose();
        disposed.Dispose();
        try
        {
            _ = disposed.Value;
            Assert.Fail("a disposed SlabRef must refuse access");
        }
        catch (ObjectDisposedException)
        {
        }
        Assert.Equal(2, cache.Cache.GetStatistics().Frees - 1);
    }

    [Fact]
    public void Alias_shares_a_compatible_cache_and_refuses_an_incompatible_one()
    {
        SlabCache kmalloc32 = Kmalloc.CacheFor(24);
        string name = TestSupport.Name("alias");
        using (var alias = SlabCache<Point3>.Alias(name, kmalloc32))
        {
            Assert.True(alias.IsAlias);
            Assert.Contains(name, kmalloc32.Aliases);
            Point3* p = alias.Alloc();
            Assert.True(kmalloc32.Contains(p));
            alias.Free(p);
        }
        Assert.DoesNotContain(name, kmalloc32.Aliases);
        Assert.Throws<ArgumentException>(() => SlabCache<Point3>.Alias(TestSupport.Name("alias"), Kmalloc.CacheFor(16)));
        using var withCtor = SlabCache.Create(TestSupport.Name("ctor_target"), 64, ctor: &CountingCtor)!;
        Assert.Contains("constructor", Assert.Throws<ArgumentException>(() => SlabCache<Point3>.Alias(TestSupport.Name("alias"), withCtor)).Message);
    }

    private struct Point3
    {
        public long X, Y, Z;
    }

    [Fact]
    public void An_untouched_array_refills_at_most_BATCHREFILL_LIMIT_objects()
    {
        TestSupport.OnCpu(0, () =>
        {
            using SlabCache cache = SlabCache.Create(TestSupport.Name("batchrefill"), 64, flags: SlabFlags.Panic)!;
            Assert.True(cache.BatchCount > SlabCache.BatchRefillLimit);
            void* first = cache.Alloc(); // the new CPU array has never been touched: cache_alloc_refill takes 16, not 60
            Assert.Equal(SlabCache.BatchRefillLimit, cache.GetSlabInfo().ActiveObjs);
            // The 16 feed this allocation and the magazine; the next refill, of a touched array, takes a whole batch
            // (or what is left of the slab).
            var more = TestSupport.AllocMany(cache, SlabCache.BatchRefillLimit);
            Assert.Equal(Math.Min(cache.ObjectsPerSlab, SlabCache.BatchRefillLimit + cache.BatchCount), cache.GetSlabInfo().ActiveObjs);
            TestSupport.FreeAll(cache, more);
            cache.Free(first);
        });
    }
}
