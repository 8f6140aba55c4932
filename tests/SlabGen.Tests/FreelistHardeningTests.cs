using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using SlabGen.Core;
using SlabGen.PageAlloc;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// A use-after-free write or an overflow into a free object is caught before the allocator follows or hands out what
/// was written: the damage is reported, the slab quarantined, allocation goes on from other slabs, and no allocation
/// ever returns an address that is not an object of its cache, or an object twice.
/// </summary>
public unsafe class FreelistHardeningTests
{
    /// <summary>Reports for one cache, collected from <see cref="SlabAllocator.ErrorReported"/> while the scope lives.</summary>
    internal sealed class Reports : IDisposable
    {
        private readonly string _cache;
        private readonly ConcurrentQueue<SlabError> _seen = new();

        public Reports(string cache)
        {
            _cache = cache;
            SlabAllocator.ErrorReported += OnError;
        }

        public SlabError[] Seen => _seen.ToArray();

        private void OnError(SlabError e)
        {
            if (e.CacheName == _cache)
                _seen.Enqueue(e);
        }

        public void Dispose() => SlabAllocator.ErrorReported -= OnError;
    }

    /// <summary>
    /// Allocates <paramref name="count"/> objects and checks each one: an object of the cache, never one already held,
    /// never one of <paramref name="never"/>.
    /// </summary>
    private static nint[] AllocChecked(SlabCache cache, int count, params nint[] never)
    {
        var seen = new HashSet<nint>();
        for (int i = 0; i < count; i++)
        {
            nint p = (nint)cache.Alloc();
            Assert.True(cache.Contains((void*)p), $"0x{p:x} is not an object of {cache.Name}");
            Assert.True(seen.Add(p), $"0x{p:x} was handed out twice");
            Assert.DoesNotContain(p, never);
            *(long*)p = p; // usable memory
        }
        return seen.ToArray();
    }

    internal static ulong* Word(SlabCache cache, nint obj) => (ulong*)((byte*)obj + cache.FreePointerOffset);

    /// <summary>A cache with one slab partly in use (kept) and <paramref name="victim"/> freed back onto that slab's freelist.</summary>
    private static (SlabCache Cache, nint Keep, nint Victim) OneObjectOnAFreelist(string name)
    {
        SlabCache cache = SlabCache.Create(name, 64, flags: SlabFlags.Panic)!;
        nint keep = (nint)cache.Alloc();
        nint victim = (nint)cache.Alloc();
        cache.Free((void*)victim);
        cache.Shrink(); // every cached object back on the slab, which keep holds
        Assert.Equal(1, cache.GetSlabInfo().NumSlabs);
        Assert.Equal(0, cache.CachedObjects()); // so the next allocation walks the freelist, starting at the victim
        return (cache, keep, victim);
    }

    [Theory]
    [InlineData(0x4141414141414141UL)]
    [InlineData(0UL)]
    [InlineData(ulong.MaxValue)]
    public void A_use_after_free_write_on_a_freelist_is_reported_and_its_slab_quarantined(ulong written)
    {
        var (cache, keep, victim) = OneObjectOnAFreelist(TestSupport.Name("hard_uaf"));
        using (cache)
        using (var reports = new Reports(cache.Name))
        {
            *Word(cache, victim) = written;
            nint[] got = AllocChecked(cache, 3 * cache.ObjectsPerSlab, keep, victim);
            SlabError e = Assert.Single(reports.Seen);
            Assert.Equal(SlabErrorKind.FreechainCorrupt, e.Kind);
            Assert.Equal((nuint)(victim & ~(nint)(4095)), e.Slab);
            Assert.StartsWith("=====", e.Report);
            Assert.Contains($"BUG {cache.Name} (Not tainted): Freechain corrupt", e.Report);
            Assert.Contains($"Object 0x{victim:x}", e.Report);
            Assert.Contains($"FIX {cache.Name}:", e.Report);
            Assert.Equal(1, cache.GetStatistics().QuarantinedSlabs);
            // The quarantined slab's live object is still freed normally; the rest is served from other slabs.
            TestSupport.FreeAll(cache, got);
            cache.Free((void*)keep);
            cache.Shrink();
            Assert.Equal(1, cache.GetSlabInfo().NumSlabs); // the quarantined slab stays while the cache lives
        }
    }

    [Fact]
    public void A_raw_pointer_written_into_a_free_object_never_becomes_an_allocation()
    {
        long target = 0;
        nint native = (nint)NativeMemory.Alloc(4096);
        try
        {
            foreach (string aimAt in new[] { "stack", "native", "live object of the slab", "page source" })
            {
                var (cache, keep, victim) = OneObjectOnAFreelist(TestSupport.Name("hard_aim"));
                using (cache)
                using (var reports = new Reports(cache.Name))
                {
                    nint aim = aimAt switch
                    {
                        "stack" => (nint)(&target),
                        "native" => native,
                        "live object of the slab" => keep, // handing it out would give one object to two owners
                        _ => (nint)PageSource.Base + 64,
                    };
                    *Word(cache, victim) = (ulong)aim;
                    nint[] got = AllocChecked(cache, 2 * cache.ObjectsPerSlab, keep, victim, aim);
                    Assert.Equal(SlabErrorKind.FreechainCorrupt, Assert.Single(reports.Seen).Kind);
                    TestSupport.FreeAll(cache, got);
                    cache.Free((void*)keep);
                }
            }
        }
        finally
        {
            NativeMemory.Free((void*)native);
        }
    }

    [Fact]
    public void An_overflow_into_a_free_neighbour_is_contained()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("hard_overflow"), 64, flags: SlabFlags.Panic)!;
        using var reports = new Reports(cache.Name);
        nint[] objs = TestSupport.AllocMany(cache, cache.ObjectsPerSlab);
        var bySlot = objs.OrderBy(p => p).ToArray();
        nint writer = bySlot[10], neighbour = bySlot[11];
        Assert.Equal(writer + cache.Size, neighbour);
        cache.Free((void*)neighbour);
        cache.Shrink(); // the neighbour is on the slab's freelist
        // 40 bytes past the end of a live object: the neighbour's first 40 bytes, its free pointer among them.
        new Span<byte>((byte*)writer + cache.Size, 40).Fill(0xfe);
        nint[] got = AllocChecked(cache, 3 * cache.ObjectsPerSlab, objs.Where(p => p != neighbour).Append(neighbour).ToArray());
        Assert.Contains(reports.Seen, e => e.Kind == SlabErrorKind.FreechainCorrupt);
        TestSupport.FreeAll(cache, got);
        TestSupport.FreeAll(cache, objs.Where(p => p != neighbour));
    }

    [Fact]
    public void Garbage_over_many_free_objects_never_stops_allocation()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("hard_garbage"), 64, flags: SlabFlags.Panic)!;
        using var reports = new Reports(cache.Name);
        nint[] objs = TestSupport.AllocMany(cache, 4 * cache.ObjectsPerSlab);
        nint[] keep = objs.Where((_, i) => i % 8 == 0).ToArray();
        TestSupport.FreeAll(cache, objs.Where((_, i) => i % 8 != 0));
        cache.Shrink();
        var rng = new Random(42);
        foreach (nint p in objs.Where((_, i) => i % 8 != 0))
            rng.NextBytes(new Span<byte>((void*)p, cache.Size)); // use after free of every free object
        nint[] got = AllocChecked(cache, 10 * cache.ObjectsPerSlab, keep);
        Assert.NotEmpty(reports.Seen);
        Assert.True(cache.GetStatistics().QuarantinedSlabs >= 1);
        TestSupport.FreeAll(cache, got);
        TestSupport.FreeAll(cache, keep);
    }

    [Fact]
    public void An_object_overwritten_in_a_magazine_is_not_handed_out()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("hard_mag"), 64, flags: SlabFlags.Panic)!;
        using var reports = new Reports(cache.Name);
        nint p = (nint)cache.Alloc();
        cache.Free((void*)p); // the top of this thread's magazine
        *Word(cache, p) = 0x1234; // use after free
        nint[] got = AllocChecked(cache, 100, p);
        SlabError e = Assert.Single(reports.Seen);
        Assert.Equal(SlabErrorKind.ObjectOverwritten, e.Kind);
        Assert.Equal((nuint)p, e.Object);
        Assert.Contains("Object overwritten while free (in a thread magazine)", e.Report);
        TestSupport.FreeAll(cache, got);
        Assert.Equal(1, cache.GetStatistics().QuarantinedSlabs);
        SlabStatistics stats = cache.GetStatistics();
        Assert.Equal(stats.Allocations, stats.Frees); // the dropped object was never counted as an allocation
    }

    [Fact]
    public void An_object_overwritten_while_cached_is_caught_when_it_goes_back_to_its_slab()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("hard_drain"), 64, flags: SlabFlags.Panic)!;
        using var reports = new Reports(cache.Name);
        nint[] objs = TestSupport.AllocMany(cache, 300);
        TestSupport.FreeAll(cache, objs); // through the magazine into the depot and the arrays
        *Word(cache, objs[5]) ^= 1; // one bit flipped while it sits in a cache layer
        cache.Shrink(); // free_block checks each object's mark on the way back
        SlabError e = Assert.Single(reports.Seen);
        Assert.Equal(SlabErrorKind.ObjectOverwritten, e.Kind);
        Assert.Equal((nuint)objs[5], e.Object);
        Assert.Equal(1, cache.GetStatistics().QuarantinedSlabs);
        TestSupport.FreeAll(cache, AllocChecked(cache, 500, objs[5]));
    }

    [Fact]
    public void A_damaged_free_slab_is_quarantined_instead_of_given_back()
    {
        var (cache, keep, victim) = OneObjectOnAFreelist(TestSupport.Name("hard_release"));
        using (cache)
        using (var reports = new Reports(cache.Name))
        {
            *Word(cache, victim) = 0xdead;
            cache.Free((void*)keep); // the slab is wholly free now: checked on its way back to the page source
            cache.Shrink();
            Assert.Contains(reports.Seen, e => e.Kind == SlabErrorKind.FreechainCorrupt);
            Assert.Equal(1, cache.GetSlabInfo().NumSlabs);
            Assert.Equal(1, cache.GetStatistics().QuarantinedSlabs);
        }
        Assert.Equal(0, cache.Pages.Blocks); // destroy gives quarantined slabs back
    }

    [Fact]
    public void An_overflow_into_an_object_never_handed_out_is_caught_when_it_would_be()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("hard_bump"), 64, flags: SlabFlags.Panic)!;
        using var reports = new Reports(cache.Name);
        nint first = (nint)cache.Alloc(); // the first refill hands out a batch; the rest of the slab waits
        nint slab = first & ~(nint)((4096 << cache.Order) - 1);
        nint last = slab + (cache.ObjectsPerSlab - 1) * cache.Size;
        *Word(cache, last) = 0; // an overflow from the slab's previous object
        nint[] got = AllocChecked(cache, 3 * cache.ObjectsPerSlab, first, last);
        SlabError e = Assert.Single(reports.Seen);
        Assert.Equal(SlabErrorKind.ObjectOverwritten, e.Kind);
        Assert.Contains("before it was ever handed out", e.Summary);
        TestSupport.FreeAll(cache, got);
        cache.Free((void*)first);
    }

    [Fact]
    public void An_impossible_count_is_reported_never_wrapped()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("hard_count"), 64, flags: SlabFlags.Panic)!;
        using var reports = new Reports(cache.Name);
        nint p = (nint)cache.Alloc();
        Slab* slab = PageSource.VirtToSlab((void*)p, cache.Order);
        ushort inUse = slab->InUse;
        slab->InUse = 0; // the descriptor overwritten: the slab thinks nothing of it is in use
        cache.Free((void*)p);
        cache.Shrink(); // free_block would take inuse below zero
        Assert.Contains(reports.Seen, e => e.Kind == SlabErrorKind.CountCorrupt);
        SlabInfoRow row = cache.GetSlabInfo();
        Assert.True(row.ActiveObjs >= 0 && row.ActiveObjs <= row.NumObjs);
        Assert.Equal(1, cache.GetStatistics().QuarantinedSlabs);
        Assert.True(inUse > 0);
        TestSupport.FreeAll(cache, AllocChecked(cache, 200, p));
    }
}

/// <summary>
/// Damage done to a shared kmalloc cache: the test runs alone, so that no other test's allocation takes the damaged
/// object first or another test's frees serve its allocations.
/// </summary>
[Collection(SerialCollection.Name)]
public unsafe class KmallocFreelistHardeningTests
{
    [Fact]
    public void A_kmalloc_freelist_overwrite_never_returns_an_address_outside_its_class()
    {
        SlabCache kmalloc2k = Kmalloc.CacheFor(2048);
        using var reports = new FreelistHardeningTests.Reports(kmalloc2k.Name);
        var held = new List<nint>();
        for (int i = 0; i < 64; i++)
            held.Add((nint)Kmalloc.Alloc(2000));
        // The victim shares its slab with an object still held: a slab left with no object in use would go back to the
        // page source at the Shrink below, and the damage with it.
        nint slabMask = ~((nint)kmalloc2k.Layout.SlabBytes - 1);
        int v = held.FindIndex(p => held.Exists(q => q != p && (q & slabMask) == (p & slabMask)));
        Assert.True(v >= 0, "64 objects of 2 KiB share no slab");
        nint victim = held[v];
        held.RemoveAt(v);
        Kmalloc.Free((void*)victim);
        kmalloc2k.Shrink();
        *FreelistHardeningTests.Word(kmalloc2k, victim) = (ulong)(nint)(&victim); // aim at the stack
        // Every free slot on the slabs is taken before a slab is grown, so this many allocations reach the victim,
        // however many free slots earlier tests left in the cache's partial slabs.
        SlabInfoRow row = kmalloc2k.GetSlabInfo();
        long allocations = row.NumObjs - row.ActiveObjs + row.ObjPerSlab;
        Assert.InRange(allocations, 1, 1_000_000);
        for (long i = 0; i < allocations; i++)
        {
            nint p = (nint)Kmalloc.Alloc(2000);
            Assert.True(kmalloc2k.Contains((void*)p));
            Assert.NotEqual((nint)(&victim), p);
            held.Add(p);
        }
        Assert.Equal(held.Count, held.Distinct().Count());
        Assert.Contains(reports.Seen, e => e.Kind == SlabErrorKind.FreechainCorrupt);
        foreach (nint p in held)
            Kmalloc.Free((void*)p);
    }
}

/// <summary>The error writer is process-wide: its test runs alone.</summary>
[Collection(SerialCollection.Name)]
public unsafe class ErrorWriterTests
{
    [Fact]
    public void Reports_go_to_the_error_writer_in_the_kernels_form_after_the_locks_are_released()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("hard_writer"), 64, flags: SlabFlags.Panic)!;
        nint keep = (nint)cache.Alloc(), victim = (nint)cache.Alloc();
        cache.Free((void*)victim);
        cache.Shrink();
        *(ulong*)((byte*)victim + cache.FreePointerOffset) = 7;
        var writer = new ReentrantWriter(cache);
        System.IO.TextWriter? old = SlabAllocator.ErrorWriter;
        long before = SlabAllocator.ErrorCount;
        SlabAllocator.ErrorWriter = writer;
        try
        {
            nint[] got = TestSupport.AllocMany(cache, 2 * cache.ObjectsPerSlab);
            TestSupport.FreeAll(cache, got);
        }
        finally
        {
            SlabAllocator.ErrorWriter = old;
        }
        string text = writer.ToString();
        Assert.Contains($"BUG {cache.Name} (Not tainted): Freechain corrupt", text);
        Assert.Contains("INFO: Slab 0x", text);
        Assert.Contains($"FIX {cache.Name}: Isolating the slab", text);
        Assert.True(writer.CalledBackIn, "the writer could use the allocator: no lock was held");
        Assert.True(SlabAllocator.ErrorCount > before);
        cache.Free((void*)keep);
    }

    /// <summary>A writer that calls back into the allocator from another thread, which deadlocks if a lock is held.</summary>
    private sealed class ReentrantWriter(SlabCache cache) : System.IO.StringWriter
    {
        public bool CalledBackIn;

        public override void Write(string? value)
        {
            var other = new System.Threading.Thread(() =>
            {
                SlabAllocator.Find(cache.Name);
                cache.Shrink();
                void* p = cache.Alloc();
                cache.Free(p);
            }) { IsBackground = true };
            other.Start();
            CalledBackIn |= other.Join(System.TimeSpan.FromSeconds(10));
            base.Write(value);
        }
    }
}
