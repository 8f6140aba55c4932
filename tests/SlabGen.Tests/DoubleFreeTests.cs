using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// A double free is refused at the second free, by every free entry point, wherever the first free left the object,
/// and the refusal changes nothing: the same counts before and after, and no object is ever handed out twice.
/// </summary>
public unsafe class DoubleFreeTests
{
    [StructLayout(LayoutKind.Sequential, Size = 64)]
    private struct Block64
    {
        public long Stamp;
    }

    public static TheoryData<string> Faces => new() { "SlabCache.Free", "SlabCache<T>.Free", "FreeBulk", "FreeBulk among live objects" };

    /// <summary>A cache under test: its untyped face (for the layers), one way to free a pointer into it, and what disposes it.</summary>
    private static (SlabCache Cache, Action<nint> Free, IDisposable Owner) Make(string face, string name)
    {
        var options = new SlabCacheOptions { Size = 64, Limit = 4, BatchCount = 2, SharedFactor = 2, Flags = SlabFlags.Panic };
        switch (face)
        {
            case "SlabCache<T>.Free":
                SlabCache<Block64> typed = SlabCache<Block64>.Create(name, options);
                return (typed.Cache, p => typed.Free((Block64*)p), typed);
            case "FreeBulk":
                SlabCache bulk = SlabCache.Create(name, options)!;
                return (bulk, p => bulk.FreeBulk([p]), bulk);
            case "FreeBulk among live objects":
                SlabCache among = SlabCache.Create(name, options)!;
                nint a = (nint)among.Alloc(), b = (nint)among.Alloc();
                // Refused as a whole: a and b stay allocated (the snapshots show it) until the owner frees them.
                return (among, p => among.FreeBulk([a, p, b]), new Disposer(() =>
                {
                    among.Free((void*)a);
                    among.Free((void*)b);
                    among.Dispose();
                }));
            default:
                SlabCache plain = SlabCache.Create(name, options)!;
                return (plain, p => plain.Free((void*)p), plain);
        }
    }

    private sealed class Disposer(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    /// <summary>Everything a refused free must leave as it was.</summary>
    private static object Snapshot(SlabCache cache) => (cache.GetSlabInfo(), cache.CachedObjectsByLayer(), cache.GetStatistics());

    private static void AssertRefused(SlabCache cache, Action<nint> free, nint p, string? where = null)
    {
        object before = Snapshot(cache);
        var e = Assert.Throws<DoubleFreeException>(() => free(p));
        Assert.Contains("double free", e.Message);
        Assert.Contains(cache.Name, e.Message);
        Assert.Contains($"0x{(nuint)p:x}", e.Message);
        Assert.Equal(cache.Name, e.CacheName);
        Assert.Equal((nuint)p, e.Address);
        if (where != null)
            Assert.Contains(where, e.Message);
        Assert.Equal(before, Snapshot(cache));
    }

    [Theory]
    [MemberData(nameof(Faces))]
    public void A_second_free_is_refused_wherever_the_first_one_left_the_object(string face)
    {
        TestSupport.OnCpu(0, () =>
        {
            var (cache, free, owner) = Make(face, TestSupport.Name("df_layers"));
            using (owner)
            {
                nint keep = (nint)cache.Alloc(); // keeps a slab partly used, so objects freed into it stay on its freelist
                nint[] objs = TestSupport.AllocMany(cache, 53);
                // Limit 4, batch 2, shared 2 x 2, a depot of 10 full magazines of 4: freed in order, objects 0..39 end in the
                // depot, 40..43 in the node's shared array, 44..45 back on their slab, 46..49 in CPU 0's array and
                // 50..52 in this thread's magazine.
                TestSupport.FreeAll(cache, objs);
                Assert.Equal(new SlabCache.CachedByLayer(Magazines: 3, Depots: 40, CpuArrays: 4, Shared: 4), cache.CachedObjectsByLayer());

                AssertRefused(cache, free, objs[52], "this thread's magazine");
                AssertRefused(cache, free, objs[47]);
                AssertRefused(cache, free, objs[41]);
                AssertRefused(cache, free, objs[10]);
                AssertRefused(cache, free, objs[44], "on its slab's freelist");

                // After a Shrink every object is back on a slab (the kept one holds its slab).
                cache.Shrink();
                Assert.Equal(0, cache.CachedObjects());
                foreach (nint p in objs.Where(p => cache.Contains((void*)p) && SameSlab(cache, p, keep)))
                    AssertRefused(cache, free, p, "on its slab's freelist");

                // Nothing was handed out twice: every object comes back once.
                long live = cache.GetStatistics().Allocations - cache.GetStatistics().Frees; // the face's own, if any
                nint[] again = TestSupport.AllocMany(cache, 200);
                Assert.Equal(again.Length, again.Distinct().Count());
                Assert.DoesNotContain(keep, again);
                TestSupport.FreeAll(cache, again);
                cache.Free((void*)keep);
                TestSupport.AssertBalanced(cache, live: live - 1);
            }
        });
    }

    private static bool SameSlab(SlabCache cache, nint a, nint b) => (a ^ b) < (nint)(4096L << cache.Order);

    [Theory]
    [MemberData(nameof(Faces))]
    public void A_second_free_is_refused_while_another_thread_holds_the_first_in_its_magazine(string face)
    {
        var (cache, free, owner) = Make(face, TestSupport.Name("df_other"));
        using (owner)
        {
            nint p = (nint)cache.Alloc();
            long before = cache.CachedObjectsByLayer().Magazines;
            using var freed = new ManualResetEventSlim();
            using var done = new ManualResetEventSlim();
            var other = new Thread(() =>
            {
                cache.Free((void*)p); // into the other thread's magazine
                freed.Set();
                done.Wait(TimeSpan.FromSeconds(30));
            }) { IsBackground = true };
            other.Start();
            Assert.True(freed.Wait(TimeSpan.FromSeconds(30)));
            Assert.Equal(before + 1, cache.CachedObjectsByLayer().Magazines);
            AssertRefused(cache, free, p, "another thread's magazine");
            done.Set();
            Assert.True(other.Join(TimeSpan.FromSeconds(30)));
            nint[] again = TestSupport.AllocMany(cache, 300);
            Assert.Equal(again.Length, again.Distinct().Count());
            TestSupport.FreeAll(cache, again);
        }
    }

    [Fact]
    public void Frees_in_between_do_not_hide_a_double_free()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("df_between"), 64, flags: SlabFlags.Panic)!;
        nint[] objs = TestSupport.AllocMany(cache, 500);
        cache.Free((void*)objs[0]);
        TestSupport.FreeAll(cache, objs.Skip(1)); // through the magazine, the depot and the arrays
        Assert.Throws<DoubleFreeException>(() => cache.Free((void*)objs[0]));
        Assert.Throws<DoubleFreeException>(() => cache.Free((void*)objs[250]));
        Assert.Throws<DoubleFreeException>(() => cache.Free((void*)objs[499]));
    }

    [Fact]
    public void A_pointer_listed_twice_in_one_bulk_free_frees_nothing()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("df_bulk_twice"), 64, flags: SlabFlags.Panic)!;
        nint[] objs = TestSupport.AllocMany(cache, 8);
        object before = Snapshot(cache);
        var e = Assert.Throws<DoubleFreeException>(() => cache.FreeBulk([objs[0], objs[1], objs[2], objs[1], objs[3]]));
        Assert.Contains("appears twice", e.Message);
        Assert.Equal(before, Snapshot(cache));
        TestSupport.FreeAll(cache, objs); // each still allocated: these are first frees
        TestSupport.AssertBalanced(cache, live: 0);
    }

    [Fact]
    public void A_bulk_free_with_more_pointers_than_its_stack_buffer_rolls_back_all_marks()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("df_bulk_long"), 64, flags: SlabFlags.Panic)!;
        nint[] objs = TestSupport.AllocMany(cache, 1000);
        cache.Free((void*)objs[999]);
        Assert.Throws<DoubleFreeException>(() => cache.FreeBulk(objs));
        objs[999] = 0;
        cache.FreeBulk(objs); // all of them were still allocated
        TestSupport.AssertBalanced(cache, live: 0);
    }

    [Fact]
    public void A_copied_SlabRef_disposed_twice_is_refused()
    {
        using SlabCache<Block64> cache = SlabCache<Block64>.Create(TestSupport.Name("df_ref"), flags: SlabFlags.Panic);
        SlabRef<Block64> r = cache.Rent();
        r.Value.Stamp = 7;
        SlabRef<Block64> copy = r;
        r.Dispose();
        r.Dispose(); // the same copy twice does nothing, as before
        DoubleFreeException? refused = null;
        try
        {
            copy.Dispose();
        }
        catch (DoubleFreeException e)
        {
            refused = e;
        }
        Assert.NotNull(refused);
        Assert.Contains(cache.Name, refused!.Message);
    }

    [Fact]
    public void A_slot_never_handed_out_is_refused()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("df_never"), 64, flags: SlabFlags.Panic)!;
        byte* first = (byte*)cache.Alloc();
        byte* slab = (byte*)((nuint)first & ~(nuint)((4096 << cache.Order) - 1));
        byte* last = slab + (cache.ObjectsPerSlab - 1) * cache.Size; // beyond the first refill's batch
        Assert.True(cache.Contains(last));
        object before = Snapshot(cache);
        var e = Assert.Throws<ArgumentException>(() => cache.Free(last));
        Assert.Contains("has not been handed out", e.Message);
        Assert.Equal(before, Snapshot(cache));
        cache.Free(first);
    }

    [Fact]
    public void After_its_slab_is_given_back_a_second_free_is_refused_without_reading_the_object()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("df_released"), 64, flags: SlabFlags.Panic)!;
        nint[] objs = TestSupport.AllocMany(cache, 3 * cache.ObjectsPerSlab);
        nint p = objs[0];
        nint keep = objs.First(q => !SameSlab(cache, q, p)); // another slab of the same arena stays
        TestSupport.FreeAll(cache, objs.Where(q => q != keep));
        cache.Shrink(); // p's slab goes back to the page source
        Assert.Equal(1, cache.GetSlabInfo().NumSlabs);
        Assert.False(cache.Contains((void*)p));
        var e = Assert.Throws<ArgumentException>(() => cache.Free((void*)p));
        Assert.Contains("given back", e.Message);
        Assert.Equal(1, cache.GetSlabInfo().ActiveObjs); // never wrapped
        cache.Free((void*)keep);
        cache.Shrink();
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
        // With the whole arena given back, the pointer is nobody's at all, or (in a parallel run) in a slab of whichever
        // cache the page source gave the arena to next, or in a large kmalloc block: refused either way, nothing freed.
        string message = Assert.Throws<ArgumentException>(() => cache.Free((void*)p)).Message;
        Assert.True(TestSupport.RefusedAsNotOurs(message), message);
    }

    [Fact]
    public void A_double_free_after_Shrink_never_releases_a_slab_with_a_live_object()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("df_shrink"), 64, flags: SlabFlags.Panic)!;
        long* live = (long*)cache.Alloc();
        *live = 0x1234;
        void* p = cache.Alloc();
        cache.Free(p);
        cache.Shrink();
        Assert.Throws<DoubleFreeException>(() => cache.Free(p));
        cache.Shrink();
        Assert.Equal(1, cache.GetSlabInfo().NumSlabs); // the live object's slab stays
        Assert.Equal(0x1234, *live);
        Assert.True(cache.Contains(live));
        cache.Free(live);
    }
}
