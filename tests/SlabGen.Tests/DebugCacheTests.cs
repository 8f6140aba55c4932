using System;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using SlabGen.Core;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// The checked paths of debug caches: every operation reaches the node's slabs (no magazine, depot or array ever holds
/// an object), damage is found where SLUB finds it, reported in its form and repaired, an invalid free still throws as
/// in the default configuration, and tracks name the code that allocated and freed.
/// </summary>
public unsafe class DebugCacheTests
{
    private const SlabFlags FZPU = SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison | SlabFlags.StoreUser;

    public struct Pair
    {
        public long A, B;
    }

    [Fact]
    public void A_debug_cache_takes_the_checked_path_for_every_operation()
    {
        SlabCache cache = DebugSupport.Create("dbg_route", 64, FZPU);
        Assert.True(cache.IsDebug);
        Assert.Equal(FastPath.NoMagazineTag, cache.Fast.Tag);
        nint[] objs = TestSupport.AllocMany(cache, 300);
        TestSupport.FreeAll(cache, objs.Take(150));
        nint[] more = TestSupport.AllocMany(cache, 50);
        Assert.Equal(0, cache.Magazines.Count); // no thread magazine was ever made
        Assert.Equal(new SlabCache.CachedByLayer(0, 0, 0, 0), cache.CachedObjectsByLayer());
        SlabStatistics st = cache.GetStatistics();
        Assert.Equal((0L, 350L, 0L, 150L), (st.AllocHit, st.AllocMiss, st.FreeHit, st.FreeMiss)); // every one served by the slabs
        Assert.Null(cache.Invariant(live: 200));
        TestSupport.FreeAll(cache, objs.Skip(150).Concat(more));
        Assert.Equal(0, cache.Validate());
        cache.Dispose();
    }

    [Fact]
    public void Without_U_or_T_the_checked_path_allocates_no_managed_memory()
    {
        SlabCache cache = DebugSupport.Create("dbg_nogc", 64, SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison);
        var held = new nint[64];
        TestSupport.FreeAll(cache, TestSupport.AllocMany(cache, held.Length)); // the slabs exist
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 10; round++)
        {
            for (int i = 0; i < held.Length; i++)
                held[i] = (nint)cache.Alloc();
            for (int i = 0; i < held.Length; i++)
                cache.Free((void*)held[i]);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        cache.Dispose();
    }

    [Fact]
    public void The_typed_face_and_bulk_calls_take_the_checked_path_too()
    {
        SlabCache<Pair> typed = SlabCache<Pair>.Create(TestSupport.Name("dbg_typed"), flags: FZPU | SlabFlags.Panic)!;
        Pair* p = typed.Alloc();
        p->A = 1;
        typed.Free(p);
        Assert.Throws<DoubleFreeException>(() => typed.Free(p));
        Span<nint> many = stackalloc nint[40];
        typed.AllocBulk(many);
        Assert.Equal(40, many.ToArray().Distinct().Count());
        Assert.Equal(40, typed.Cache.GetLiveObjects().Count);
        typed.FreeBulk(many);
        Assert.Empty(typed.Cache.GetLiveObjects());
        Assert.Equal(0, typed.Cache.Magazines.Count);
        typed.Dispose();
    }

    [Theory]
    [InlineData(SlabFlags.ConsistencyChecks | SlabFlags.RedZone)]
    [InlineData(SlabFlags.RedZone)]
    [InlineData(SlabFlags.Poison)]
    [InlineData(SlabFlags.StoreUser)]
    [InlineData(SlabFlags.Trace)]
    [InlineData(SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison | SlabFlags.StoreUser)]
    public void A_double_free_throws_as_in_the_default_configuration(SlabFlags flags)
    {
        SlabCache cache = DebugSupport.Create("dbg_df", 48, flags);
        void* p = cache.Alloc();
        void* q = cache.Alloc();
        cache.Free(p);
        var e = Assert.Throws<DoubleFreeException>(() => cache.Free(p));
        Assert.Equal($"slab cache '{cache.Name}': double free of 0x{(nuint)p:x}: the object is already free (it is on its slab's freelist); nothing was changed.", e.Message);
        Assert.Equal((nuint)p, e.Address);
        Assert.Throws<DoubleFreeException>(() => cache.FreeBulk(new[] { (nint)q, (nint)p }));
        Assert.Throws<DoubleFreeException>(() => cache.FreeBulk(new[] { (nint)q, (nint)q }));
        Assert.Single(cache.GetLiveObjects()); // q: neither bulk call freed anything
        cache.Free(q);
        Assert.Equal(0, cache.Validate());
        cache.Dispose();
    }

    [Fact]
    public void A_pointer_that_is_not_an_object_is_refused_without_being_read()
    {
        SlabCache cache = DebugSupport.Create("dbg_foreign", 64, FZPU);
        SlabCache other = DebugSupport.Create("dbg_other", 64, FZPU);
        byte* p = (byte*)cache.Alloc();
        byte* theirs = (byte*)other.Alloc();
        void* native = NativeMemory.Alloc(64);
        try
        {
            Assert.Contains("never handed out by SlabGen", Assert.Throws<ArgumentException>(() => cache.Free(native)).Message);
            Assert.Contains("not the start of an object", Assert.Throws<ArgumentException>(() => cache.Free(p + 8)).Message);
            Assert.Contains($"belongs to cache '{other.Name}'", Assert.Throws<ArgumentException>(() => cache.Free(theirs)).Message);
            // The next slot of the slab, never handed out: refused as the default configuration refuses it.
            byte* next = p + cache.Size;
            Assert.Contains("has not been handed out since its slab was made", Assert.Throws<ArgumentException>(() => cache.Free(next)).Message);
            Assert.Throws<ArgumentException>(() => cache.FreeBulk(new[] { (nint)p, (nint)native }));
            Assert.Single(cache.GetLiveObjects());
        }
        finally
        {
            NativeMemory.Free(native);
        }
        cache.Free(p);
        other.Free(theirs);
        cache.Dispose();
        other.Dispose();
    }

    [Fact]
    public void A_write_after_free_is_caught_when_the_object_would_be_handed_out_again_and_never_handed_out()
    {
        SlabCache cache = DebugSupport.Create("dbg_uaf", 64, FZPU);
        using var reports = new CacheReports(cache);
        byte* p = (byte*)cache.Alloc();
        cache.Free(p);
        p[10] = 0x42; // use after free

        byte* q = (byte*)cache.Alloc();

        Assert.True(q != p, "the damaged object was handed out");
        SlabError e = reports.Single(SlabErrorKind.PoisonOverwritten, (nint)p);
        Assert.Contains("First byte 0x42 instead of 0x6b", e.Report);
        Assert.Contains("INFO: Allocated in SlabGen.Tests.DebugCacheTests.", e.Report);
        Assert.Contains("INFO: Freed in SlabGen.Tests.DebugCacheTests.", e.Report);
        Assert.Contains($"FIX {cache.Name}: Restoring Poison", e.Report);
        Assert.Contains($"FIX {cache.Name}: Marking all objects used", e.Report);
        Assert.Equal(3, e.KunitErrors); // BUG, the restore, and "Marking all objects used"
        Assert.Equal(1, cache.GetStatistics().QuarantinedSlabs); // the slab is out of service
        Assert.Contains((nint)q, cache.GetLiveObjects().Select(o => (nint)o.Address));
        cache.Free(q);
        Assert.Equal(0, cache.Validate());
        cache.Dispose();
    }

    [Fact]
    public void Overflow_and_underflow_are_caught_at_free_repaired_and_the_free_goes_on()
    {
        SlabCache cache = DebugSupport.Create("dbg_rz", 40, SlabFlags.ConsistencyChecks | SlabFlags.RedZone);
        using var reports = new CacheReports(cache);
        byte* p = (byte*)cache.Alloc();
        p[40] = 1;   // one past the end
        p[-1] = 2;   // one before the start
        cache.Free(p);
        SlabError[] seen = reports.Seen;
        Assert.Equal(2, seen.Length);
        Assert.Contains(seen, e => e.Summary == "Left Redzone overwritten" && e.Report.Contains("First byte 0x2 instead of 0xcc"));
        Assert.Contains(seen, e => e.Summary == "Right Redzone overwritten" && e.Report.Contains("First byte 0x1 instead of 0xcc"));
        Assert.All(seen, e => Assert.Equal((nuint)p, e.Object));
        Assert.Equal(SlabDebug.RedInactive, p[40]); // repaired, then the object was freed
        Assert.Equal(SlabDebug.RedInactive, p[-1]);
        Assert.Empty(cache.GetLiveObjects());
        reports.Clear();
        Assert.Equal(0, cache.Validate());
        Assert.Empty(reports.Seen);
        cache.Dispose();
    }

    [Fact]
    public void Without_F_damage_is_found_by_Validate()
    {
        SlabCache cache = DebugSupport.Create("dbg_nof", 64, SlabFlags.RedZone | SlabFlags.Poison);
        using var reports = new CacheReports(cache);
        byte* p = (byte*)cache.Alloc();
        cache.Free(p);
        p[0] = 0;
        byte* q = (byte*)cache.Alloc(); // without F the allocation does not check: the kernel's behaviour
        Assert.Empty(reports.Seen);
        cache.Free(q);
        *(byte*)q = 7;
        Assert.Equal(1, cache.Validate());
        Assert.Equal(SlabErrorKind.PoisonOverwritten, Assert.Single(reports.Seen).Kind);
        cache.Dispose();
    }

    [Fact]
    public void An_overflow_into_the_free_pointer_of_a_live_object_is_found()
    {
        SlabCache cache = DebugSupport.Create("dbg_fp", 64, SlabFlags.Poison); // no red zone: the free pointer follows the object
        Assert.Equal(64, cache.FreePointerOffset);
        using var reports = new CacheReports(cache);
        byte* p = (byte*)cache.Alloc();
        *(ulong*)(p + 64) = 0x4141414141414141; // eight bytes past the end
        Assert.Equal(1, cache.Validate());
        SlabError e = reports.Single(SlabErrorKind.FreepointerCorrupt, (nint)p);
        Assert.Equal("Freepointer corrupt", e.Summary);
        Assert.Equal(1, e.KunitErrors); // object_err: the kernel zaps the pointer without a FIX line
        Assert.Equal(0UL, *(ulong*)(p + 64)); // set back to the live mark
        cache.Free(p);
        Assert.Equal(0, cache.Validate());
        cache.Dispose();
    }

    [Fact]
    public void Slab_padding_is_checked_under_P()
    {
        SlabCache cache = DebugSupport.Create("dbg_pad", 72, SlabFlags.Poison);
        Assert.NotEqual(0, cache.Layout.SlabBytes % cache.Size); // there is a tail to check
        using var reports = new CacheReports(cache);
        byte* p = (byte*)cache.Alloc();
        byte* slabBase = PageAlloc.PageSource.VirtToSlab(p, cache.Order)->Base;
        byte* tail = slabBase + cache.Layout.SlabBytes - 1;
        *tail = 0;
        Assert.Equal(1, cache.Validate());
        SlabError e = Assert.Single(reports.Seen);
        Assert.Equal(SlabErrorKind.PaddingOverwritten, e.Kind);
        Assert.StartsWith($"Padding overwritten. 0x{(nuint)tail:x}-0x{(nuint)tail:x}", e.Summary);
        Assert.Equal(SlabDebug.PoisonInuse, *tail);
        cache.Free(p);
        cache.Dispose();
    }

    [Fact]
    public void Live_objects_are_listed_with_where_they_were_allocated()
    {
        SlabCache cache = DebugSupport.Create("dbg_live", 64, SlabFlags.StoreUser);
        nint[] objs = TestSupport.AllocMany(cache, 3);
        cache.Free((void*)objs[1]);
        var live = cache.GetLiveObjects();
        Assert.Equal(new[] { objs[0], objs[2] }, live.Select(o => (nint)o.Address).OrderBy(a => a));
        foreach (SlabLiveObject o in live)
        {
            Assert.NotNull(o.Allocated);
            Assert.Equal(64, o.RequestedSize);
            Assert.Equal(Environment.CurrentManagedThreadId, o.Allocated!.ThreadId);
            Assert.StartsWith("SlabGen.Tests.TestSupport.AllocMany", o.Allocated.Caller); // the first frame outside SlabGen
            Assert.Contains(o.Allocated.Stack, f => f.StartsWith("SlabGen.Tests.DebugCacheTests.Live_objects_are_listed", StringComparison.Ordinal));
            Assert.True(o.Allocated.Stack.Count <= StackDepot.MaxFrames);
            Assert.True(o.Allocated.Age >= TimeSpan.Zero);
        }
        Assert.Single(cache.GetLiveObjects(limit: 1));
        TestSupport.FreeAll(cache, new[] { objs[0], objs[2] });
        cache.Dispose();
    }

    [Fact]
    public void Without_U_live_objects_are_listed_without_tracks_even_for_a_default_cache()
    {
        SlabCache cache = SlabCache.Create(TestSupport.Name("dbg_live_plain"), 64, flags: SlabFlags.Panic)!;
        nint[] objs = TestSupport.AllocMany(cache, 10);
        TestSupport.FreeAll(cache, objs.Skip(5)); // these sit in this thread's magazine: free, not listed
        var live = cache.GetLiveObjects();
        Assert.Equal(objs.Take(5).OrderBy(a => a), live.Select(o => (nint)o.Address).OrderBy(a => a));
        Assert.All(live, o => Assert.Null(o.Allocated));
        TestSupport.FreeAll(cache, objs.Take(5));
        Assert.Empty(cache.GetLiveObjects());
        cache.Dispose();
    }

    [Fact]
    public void A_refused_destroy_names_the_leaks_with_their_stacks_up_to_a_bound()
    {
        SlabCache cache = DebugSupport.Create("dbg_leaks", 64, SlabFlags.StoreUser);
        using var reports = new CacheReports(cache);
        nint[] objs = TestSupport.AllocMany(cache, SlabCache.LeakListLimit + 4);
        var e = Assert.Throws<InvalidOperationException>(() => cache.Dispose());
        Assert.StartsWith($"slab cache '{cache.Name}': cannot destroy: {objs.Length} objects are still allocated:", e.Message);
        Assert.Contains($"0x{objs[0]:x} allocated in SlabGen.Tests.TestSupport.AllocMany", e.Message);
        Assert.Contains("SlabGen.Tests.DebugCacheTests.A_refused_destroy_names_the_leaks", e.Message);
        Assert.Contains("... and 4 more", e.Message);
        Assert.Equal(SlabCache.LeakListLimit, objs.Count(p => e.Message.Contains($"0x{p:x} allocated in")));
        Assert.All(reports.Seen, r => Assert.Equal(SlabErrorKind.ObjectsRemaining, r.Kind));
        Assert.Equal(SlabCache.LeakListLimit, reports.Seen.Sum(r => r.KunitErrors - 1)); // each listed object counts
        TestSupport.FreeAll(cache, objs);
        cache.Dispose();
    }

    [Theory]
    [InlineData(FZPU)]
    [InlineData(SlabFlags.None)] // objects move through magazines and arrays meanwhile: counted in use by their slabs
    public void Validate_finds_nothing_wrong_while_other_threads_use_the_cache(SlabFlags flags)
    {
        SlabCache cache = DebugSupport.Create("dbg_concurrent", 64, flags);
        using var reports = new CacheReports(cache);
        using var stop = new ManualResetEventSlim();
        int rounds = 0;
        var workers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            var held = new nint[32];
            while (!stop.IsSet)
            {
                for (int i = 0; i < held.Length; i++)
                {
                    held[i] = (nint)cache.Alloc();
                    *(long*)held[i] = i; // inside the object: no damage
                }
                foreach (nint p in held)
                    cache.Free((void*)p);
                Interlocked.Increment(ref rounds);
            }
        }) { IsBackground = true }).ToArray();
        foreach (Thread t in workers)
            t.Start();
        int validations = 0;
        while (validations < 50 || Volatile.Read(ref rounds) < 20)
        {
            Assert.Equal(0, cache.Validate());
            validations++;
            Assert.True(validations < 100_000, "the workers made no progress");
        }
        stop.Set();
        foreach (Thread t in workers)
            Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a worker did not stop");
        Assert.Empty(reports.Seen);
        Assert.Equal(0, cache.Validate());
        Assert.Empty(cache.GetLiveObjects());
        TestSupport.AssertBalanced(cache, live: 0);
        cache.Dispose();
    }

    [Fact]
    public void Validate_checks_a_default_cache_as_far_as_its_marks_go_and_counts_cached_objects_as_in_use()
    {
        SlabCache cache = SlabCache.Create(TestSupport.Name("dbg_validate_plain"), 64, flags: SlabFlags.Panic)!;
        using var reports = new CacheReports(cache);
        nint[] objs = TestSupport.AllocMany(cache, 200);
        TestSupport.FreeAll(cache, objs); // into this thread's magazine and the CPU array: free, but not on a freelist
        Assert.True(cache.CachedObjects() > 0);
        Assert.Equal(0, cache.Validate());
        cache.Shrink();
        nint keep = (nint)cache.Alloc(), victim = (nint)cache.Alloc();
        cache.Free((void*)victim);
        cache.Shrink(); // the victim is on its slab's freelist now
        *(ulong*)((byte*)victim + cache.FreePointerOffset) = 0x4141414141414141;
        Assert.Equal(1, cache.Validate());
        Assert.Equal(SlabErrorKind.FreechainCorrupt, Assert.Single(reports.Seen).Kind);
        Assert.Equal(1, cache.GetStatistics().QuarantinedSlabs);
        cache.Free((void*)keep);
        cache.Dispose();
    }

    [Fact]
    public void An_alias_onto_a_debug_cache_or_with_debug_flags_gets_a_cache_of_its_own()
    {
        SlabCache target = DebugSupport.Create("dbg_alias_target", 64, SlabFlags.RedZone);
        string name = TestSupport.Name("dbg_alias");
        SlabCache<Pair> alias = SlabCache<Pair>.Alias(name, target);
        Assert.False(alias.IsAlias);
        Assert.NotSame(target, alias.Cache);
        Assert.Equal(name, alias.Cache.Name);
        Assert.Empty(target.Aliases);
        Assert.Throws<ArgumentException>(() => target.AddAlias(TestSupport.Name("dbg_alias_direct"), 16, 0));
        alias.Dispose();

        SlabCache<Pair> flagged = SlabCache<Pair>.Alias(TestSupport.Name("dbg_alias_flags"), Kmalloc.CacheFor(16), flags: SlabFlags.Poison);
        Assert.False(flagged.IsAlias);
        Assert.True(flagged.Cache.IsDebug);
        Assert.Equal(SlabFlags.Poison, flagged.Cache.Flags & SlabFlags.Poison);
        flagged.Dispose();

        SlabCache<Pair> merged = SlabCache<Pair>.Alias(TestSupport.Name("dbg_alias_plain"), Kmalloc.CacheFor(16));
        Assert.True(merged.IsAlias); // no debug flag anywhere: it merges as before
        merged.Dispose();
        target.Dispose();
    }

    [Fact]
    public void Kmalloc_calls_on_a_debug_kmalloc_cache_keep_its_red_zone_honest()
    {
        SlabCache s = DebugSupport.Create("dbg_kmalloc", 64, SlabFlags.ConsistencyChecks | SlabFlags.RedZone, kmalloc: true);
        using var reports = new CacheReports(s);
        byte* p = (byte*)s.AllocSlow(20);
        Assert.Equal(20, SlabDebug.GetOrigSize(s.Layout, p));
        Assert.Equal(SlabDebug.RedActive, p[20]); // the bytes past the request are red zone
        Assert.Equal((nuint)64, Kmalloc.Ksize(p)); // ksize: the whole object is the caller's now
        p[63] = 1;
        Assert.Equal(0, s.Validate());
        Kmalloc.Free(p);
        Assert.Throws<DoubleFreeException>(() => Kmalloc.Free(p));
        Assert.Throws<DoubleFreeException>(() => Kmalloc.Realloc(p, 10));

        byte* q = (byte*)s.AllocSlow(30);
        q = (byte*)Kmalloc.Realloc(q, 50); // in place, the red zone moves to 50
        Assert.True(s.Contains(q));
        Assert.Equal(50, SlabDebug.GetOrigSize(s.Layout, q));
        q[50] = 9;
        Assert.Equal(1, s.Validate());
        Assert.Equal("kmalloc Redzone overwritten", Assert.Single(reports.Seen).Summary);
        Kmalloc.Free(q);
        s.Dispose();
    }

    [Fact]
    public void The_statistics_variant_of_slabinfo_has_the_globalstat_and_cpustat_columns()
    {
        SlabCache cache = DebugSupport.Create("dbg_stats", 64, SlabFlags.ConsistencyChecks | SlabFlags.Poison);
        nint[] objs = TestSupport.AllocMany(cache, 5);
        TestSupport.FreeAll(cache, objs.Take(2));
        *(byte*)objs[0] = 1; // damage a free object: one error
        Assert.Equal(1, cache.Validate());
        string text = SlabInfo.Read(statistics: true);
        string[] lines = text.Split('\n');
        Assert.Equal("slabinfo - version: 2.1 (statistics)", lines[0]);
        Assert.EndsWith(": globalstat <listallocs> <maxobjs> <grown> <reaped> <error> <maxfreeable> <nodeallocs> <remotefrees> <alienoverflow> : cpustat <allochit> <allocmiss> <freehit> <freemiss>", lines[1]);
        string row = Assert.Single(lines, l => l.StartsWith(cache.Name + " ", StringComparison.Ordinal));
        Assert.StartsWith(cache.GetSlabInfo().ToString(), row);
        long[] global = Columns(row, "globalstat", 9), cpu = Columns(row, "cpustat", 4);
        Assert.Equal(new long[] { 5, 5, 1, 0, 1 }, global[..5]); // listallocs, maxobjs, grown, reaped, error
        Assert.True(global[5] >= 2);                             // maxfreeable: at least the two freed
        Assert.Equal(new long[] { 0, 0 }, new[] { global[6], global[8] }); // nodeallocs, alienoverflow: never here
        Assert.Equal(new long[] { 0, 5, 0, 2 }, cpu);
        Assert.DoesNotContain("globalstat", SlabInfo.Read());
        TestSupport.FreeAll(cache, objs.Skip(2));
        cache.Dispose();
    }

    private static long[] Columns(string row, string group, int count)
    {
        string rest = row[(row.IndexOf(" : " + group + " ", StringComparison.Ordinal) + group.Length + 4)..];
        int end = rest.IndexOf(" : ", StringComparison.Ordinal);
        long[] values = (end < 0 ? rest : rest[..end]).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();
        Assert.Equal(count, values.Length);
        return values;
    }
}

/// <summary>T writes to the process-wide error writer: its test runs alone.</summary>
[Collection(SerialCollection.Name)]
public unsafe class DebugTraceTests
{
    [Fact]
    public void Trace_writes_a_line_per_allocation_and_free_with_the_caller()
    {
        SlabCache cache = DebugSupport.Create("dbg_trace", 32, SlabFlags.Trace);
        var writer = new System.IO.StringWriter();
        System.IO.TextWriter? old = SlabAllocator.ErrorWriter;
        long errors = SlabAllocator.ErrorCount;
        SlabAllocator.ErrorWriter = writer;
        void* p;
        try
        {
            p = cache.Alloc();
            cache.Free(p);
        }
        finally
        {
            SlabAllocator.ErrorWriter = old;
        }
        string text = writer.ToString();
        Assert.Contains($"TRACE {cache.Name} alloc 0x{(nuint)p:x} inuse=1 fp=0x0\n", text);
        Assert.Contains($"TRACE {cache.Name} free 0x{(nuint)p:x} inuse=1", text);
        Assert.Contains("Object 0000", text); // a free's dump
        Assert.Contains(" SlabGen.Tests.DebugTraceTests.Trace_writes_a_line", text);
        Assert.Equal(errors, SlabAllocator.ErrorCount); // trace lines are not errors
        cache.Dispose();
    }
}
