using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using SlabGen.Core;
using Xunit;

namespace SlabGen.Tests;

/// <summary>Creating and destroying caches: refusals leave everything as it was, successes leave nothing behind.</summary>
public unsafe class LifecycleTests
{
    [Fact]
    public void Destroy_while_another_thread_allocates_refuses_or_leaves_nothing_handed_out()
    {
        for (int round = 0; round < 20; round++)
        {
            // Big objects, few per slab: the allocating thread keeps growing the cache through the slow path.
            SlabCache cache = SlabCache.Create(TestSupport.Name("life_race"), 3000, flags: SlabFlags.Panic)!;
            int obtained = 0;
            string? violation = null;
            using var started = new ManualResetEventSlim();
            var allocator = new Thread(() =>
            {
                var held = new List<nint>();
                try
                {
                    while (true)
                    {
                        for (int i = 0; i < 7; i++)
                        {
                            held.Add((nint)cache.Alloc());
                            obtained++;
                        }
                        started.Set();
                        foreach (nint p in held)
                        {
                            try
                            {
                                cache.Free((void*)p);
                            }
                            catch (ObjectDisposedException)
                            {
                                violation = $"0x{p:x} was handed out, yet destroy succeeded before it was freed";
                                return;
                            }
                        }
                        held.Clear();
                    }
                }
                catch (ObjectDisposedException)
                {
                    // The expected end: the cache was destroyed while this thread held nothing.
                    if (held.Count > 0)
                        violation = $"destroy succeeded while {held.Count} objects were held";
                }
            }) { IsBackground = true };
            allocator.Start();
            Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                try
                {
                    cache.Dispose();
                    break;
                }
                catch (InvalidOperationException e) when (e.Message.Contains("cannot destroy"))
                {
                    Assert.True(DateTime.UtcNow < deadline, "destroy never found a moment with nothing allocated");
                    Assert.False(cache.IsDisposed);
                }
            }
            Assert.True(allocator.Join(TimeSpan.FromSeconds(30)), "the allocating thread did not stop");
            Assert.Null(violation);
            Assert.True(obtained > 0);
            Assert.Equal(0, cache.Pages.Blocks); // no slab left behind
        }
    }

    [Fact]
    public void A_slot_reused_by_a_new_cache_refuses_the_old_caches_pointers()
    {
        SlabCache old = SlabCache.Create(TestSupport.Name("life_old"), 64, flags: SlabFlags.Panic)!;
        nint[] objs = TestSupport.AllocMany(old, 100);
        TestSupport.FreeAll(old, objs);
        int slot = old.Slot;
        old.Dispose();
        using SlabCache fresh = SlabCache.Create(TestSupport.Name("life_new"), 64, flags: SlabFlags.Panic)!;
        foreach (nint p in objs.Take(10))
        {
            Assert.False(fresh.Contains((void*)p) && fresh.Slot == slot && fresh.GetSlabInfo().NumSlabs == 0);
            Assert.ThrowsAny<Exception>(() => fresh.Free((void*)p));
            Assert.Throws<ObjectDisposedException>(() => old.Free((void*)p));
        }
        Assert.Equal(0, fresh.GetSlabInfo().ActiveObjs);
    }

    [Fact]
    public void A_failed_create_gives_back_everything_it_took()
    {
        for (int i = 0; i < CacheChain.MaxCaches + 100; i++)
        {
            using (FaultInjection.FailAfter(i % 3)) // the constructor's slots, then each array in turn
            {
                try
                {
                    SlabCache? c = SlabCache.Create(TestSupport.Name("life_fail"), 64);
                    Assert.Null(c);
                }
                catch (OutOfMemoryException e)
                {
                    Assert.Contains("life_fail", e.Message);
                }
            }
        }
        // More failures than there are slots: had any of them kept its slot, no cache could be made now.
        using SlabCache ok = SlabCache.Create(TestSupport.Name("life_after"), 64, flags: SlabFlags.Panic)!;
        Assert.False(ok.IsDisposed);
    }

    private static SlabCache? s_reentrant;
    private static nint s_reentrantVictim;
    private static string s_reentry = "";
    private static Exception? s_reentryError;

    private static void ReenteringCtor(void* obj)
    {
        SlabCache cache = s_reentrant!;
        string what = s_reentry;
        if (what == "")
            return;
        s_reentry = "";
        try
        {
            switch (what)
            {
                case "Alloc": cache.Alloc(); break;
                case "Free": cache.Free((void*)s_reentrantVictim); break;
                case "Shrink": cache.Shrink(); break;
                case "Tune": cache.Tune(8, 4, 0); break;
                case "Reap": cache.Reap(); break;
                case "Dispose": cache.Dispose(); break;
                case "AllocBulk": cache.AllocBulk(new nint[2]); break;
                case "FreeBulk": cache.FreeBulk([s_reentrantVictim]); break;
            }
        }
        catch (Exception e)
        {
            s_reentryError = e;
            throw;
        }
    }

    [Theory]
    [InlineData("Alloc")]
    [InlineData("Free")]
    [InlineData("Shrink")]
    [InlineData("Tune")]
    [InlineData("Reap")]
    [InlineData("Dispose")]
    [InlineData("AllocBulk")]
    [InlineData("FreeBulk")]
    public void A_ctor_that_reenters_its_own_cache_gets_an_exception_not_a_hang(string operation)
    {
        {
            using SlabCache cache = SlabCache.Create(TestSupport.Name("life_reenter"), 64, ctor: &ReenteringCtor, flags: SlabFlags.Panic)!;
            s_reentrant = cache;
            s_reentryError = null;
            void* victim = cache.Alloc(); // an object of the cache, allocated: what a re-entering Free would free
            s_reentrantVictim = (nint)victim;
            s_reentry = operation;
            var got = new List<nint>();
            Exception? thrown = TestSupport.OnThread(() =>
            {
                try
                {
                    for (int i = 0; i < 1000; i++)
                        got.Add((nint)cache.Alloc()); // until a new slab is needed: the ctor runs
                }
                finally
                {
                    TestSupport.FreeAll(cache, got);
                }
            }, $"a ctor calling {operation} on its own cache hung");
            Assert.IsType<InvalidOperationException>(thrown);
            Assert.Contains("its constructor called", thrown!.Message);
            Assert.Contains(cache.Name, thrown.Message);
            Assert.Same(thrown, s_reentryError);
            Assert.False(cache.IsDisposed);
            Assert.Equal(1, cache.Pages.Blocks); // the victim's slab; the one being populated went back
            cache.Free(victim);
            cache.Shrink();
            TestSupport.AssertBalanced(cache, live: 0);
        }
    }

    private static ManualResetEventSlim? s_ctorEntered, s_ctorRelease;

    private static void BlockingCtor(void* obj)
    {
        if (s_ctorEntered != null && !s_ctorEntered.IsSet)
        {
            s_ctorEntered.Set();
            s_ctorRelease!.Wait(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void A_ctor_that_blocks_holds_no_lock_other_threads_need()
    {
        {
            using SlabCache cache = SlabCache.Create(TestSupport.Name("life_block"), 64, ctor: &BlockingCtor, flags: SlabFlags.Panic)!;
            using var entered = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            s_ctorEntered = entered;
            s_ctorRelease = release;
            try
            {
                var blocked = new Thread(() => cache.Free(cache.Alloc())) { IsBackground = true };
                blocked.Start();
                Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));
                // While that ctor waits, on the same CPU or another, everything else goes on.
                var others = new Thread[2];
                for (int t = 0; t < others.Length; t++)
                {
                    int cpu = t;
                    others[t] = new Thread(() => TestSupport.OnCpu(cpu, () =>
                    {
                        cache.Shrink();
                        cache.Tune(32, 16, 0);
                        cache.Reap();
                        TestSupport.Churn(cache, 100);
                        SlabInfo.Read();
                    })) { IsBackground = true };
                    others[t].Start();
                }
                foreach (Thread t in others)
                    Assert.True(t.Join(TimeSpan.FromSeconds(30)), "an operation waited on the blocked ctor");
                release.Set();
                Assert.True(blocked.Join(TimeSpan.FromSeconds(30)));
            }
            finally
            {
                s_ctorEntered = null;
                release.Set();
            }
            cache.Shrink();
            TestSupport.AssertBalanced(cache, live: 0);
        }
    }

    /// <summary>This thread's CPU time in clock ticks (utime + stime of /proc/thread-self/stat).</summary>
    private static long ThreadCpuTicks()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]); // fields 14 and 15 of stat(5)
    }

    [Fact]
    public void A_long_wait_for_a_spin_lock_sleeps_instead_of_burning_a_core()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var spin = new RawSpinLock(LockOrder.Level.ListLock);
        using var held = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using (spin.EnterScope())
            {
                held.Set();
                done.Wait(TimeSpan.FromSeconds(30));
            }
        }) { IsBackground = true };
        holder.Start();
        Assert.True(held.Wait(TimeSpan.FromSeconds(30)));
        long cpu = 0, wallMs = 0;
        var waiter = new Thread(() =>
        {
            long before = ThreadCpuTicks();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using (spin.EnterScope())
                wallMs = sw.ElapsedMilliseconds;
            cpu = ThreadCpuTicks() - before;
        }) { IsBackground = true };
        waiter.Start();
        Thread.Sleep(1000); // the waiter waits about a second
        done.Set();
        Assert.True(waiter.Join(TimeSpan.FromSeconds(30)));
        Assert.True(holder.Join(TimeSpan.FromSeconds(30)));
        Assert.True(wallMs >= 900, $"the waiter waited {wallMs} ms");
        // Clock ticks are 10 ms: a spinning waiter would burn about 100 of them in that second.
        Assert.True(cpu < 30, $"the waiter used {cpu} ticks of CPU in {wallMs} ms");
    }
}

/// <summary>Process-wide state: these run alone.</summary>
[Collection(SerialCollection.Name)]
public unsafe class ProcessLifecycleTests
{
    [Fact]
    public void Exited_threads_give_back_their_magazines_and_tables_at_the_next_reap_pass_without_a_GC()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("life_churn"), 64, flags: SlabFlags.Panic)!;
        SlabAllocator.ReapNow(); // earlier tests' exited threads
        // No collection may run from here on, so no finalizer can do the work the reap pass must do.
        Assert.True(GC.TryStartNoGCRegion(64 << 20));
        try
        {
            Churn200();
        }
        finally
        {
            GC.EndNoGCRegion();
        }
        cache.Shrink();
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);

        void Churn200()
        {
        int tables = ThreadMagazines.TableCount;
        var threads = new Thread[200];
        for (int i = 0; i < threads.Length; i++)
        {
            threads[i] = new Thread(() => TestSupport.Churn(cache, 50));
            threads[i].Start();
        }
        foreach (Thread t in threads)
            Assert.True(t.Join(TimeSpan.FromSeconds(30)));
        Assert.True(ThreadMagazines.TableCount >= tables + threads.Length);
        Assert.Equal(threads.Length, cache.Magazines.Count);
        SlabAllocator.ReapNow();
        Assert.True(ThreadMagazines.TableCount <= tables, $"{ThreadMagazines.TableCount} tables left, {tables} before");
        Assert.Equal(0, cache.Magazines.Count);
        Assert.Equal(0, cache.CachedObjectsByLayer().Magazines);
        }
    }

    [Fact]
    public void With_reaping_off_Shrink_gives_back_exited_threads_tables()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("life_churn_off"), 64, flags: SlabFlags.Panic)!;
        cache.Shrink();
        Assert.True(GC.TryStartNoGCRegion(16 << 20));
        try
        {
            int tables = ThreadMagazines.TableCount;
            var t = new Thread(() => TestSupport.Churn(cache, 50));
            t.Start();
            Assert.True(t.Join(TimeSpan.FromSeconds(30)));
            Assert.Equal(tables + 1, ThreadMagazines.TableCount);
            cache.Shrink();
            Assert.Equal(tables, ThreadMagazines.TableCount);
        }
        finally
        {
            GC.EndNoGCRegion();
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mincore(void* addr, nuint length, byte* vec);

    [Fact]
    public void A_threads_table_is_backed_only_where_its_caches_entries_are()
    {
        if (!OperatingSystem.IsLinux())
            return;
        using SlabCache cache = SlabCache.Create(TestSupport.Name("life_table"), 64, flags: SlabFlags.Panic)!;
        int pages = -1, entryPage = -1;
        byte[] resident = new byte[8];
        var t = new Thread(() =>
        {
            TestSupport.Churn(cache, 10);
            nint* table = ThreadMagazines.t_table;
            fixed (byte* vec = resident)
                Assert.Equal(0, mincore(table, (nuint)(CacheChain.MaxCaches * sizeof(nint)), vec));
            pages = resident.Count(b => (b & 1) != 0);
            entryPage = cache.Slot * sizeof(nint) / 4096;
        });
        t.Start();
        Assert.True(t.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, resident[entryPage] & 1);
        Assert.Equal(1, pages); // a 32 KiB table, one 4 KiB page of it backed
        cache.Shrink();
    }

    [Fact]
    public void Slabinfo_calls_its_writer_with_no_lock_held()
    {
        var writer = new CreatingWriter();
        SlabInfo.Write(writer);
        Assert.True(writer.OtherThreadCreated, "a cache could not be created from another thread while the writer ran");
        Assert.Contains("slabinfo - version: 2.1", writer.ToString());
    }

    /// <summary>A writer whose first line waits for another thread to create and destroy a cache (it needs the chain mutex).</summary>
    private sealed class CreatingWriter : StringWriter
    {
        public bool OtherThreadCreated;
        private bool _tried;

        public override void WriteLine(string? value)
        {
            if (!_tried)
            {
                _tried = true;
                var t = new Thread(() => SlabCache.Create(TestSupport.Name("life_writer"), 64, flags: SlabFlags.Panic)!.Dispose())
                    { IsBackground = true };
                t.Start();
                OtherThreadCreated = t.Join(TimeSpan.FromSeconds(10));
            }
            base.WriteLine(value);
        }
    }

    [Fact]
    public void A_reap_interval_the_timer_cannot_honour_is_refused_and_the_getter_tells_the_truth()
    {
        TimeSpan before = SlabAllocator.ReapInterval;
        try
        {
            foreach (TimeSpan bad in new[] { TimeSpan.Zero, TimeSpan.FromTicks(-1), TimeSpan.FromMilliseconds(0.5), TimeSpan.FromDays(50), TimeSpan.MaxValue })
            {
                Assert.Throws<ArgumentOutOfRangeException>(() => SlabAllocator.ReapInterval = bad);
                Assert.Equal(before, SlabAllocator.ReapInterval);
            }
            SlabAllocator.ReapInterval = TimeSpan.FromMilliseconds(1500.7);
            Assert.Equal(TimeSpan.FromMilliseconds(1500), SlabAllocator.ReapInterval);
            SlabAllocator.ReapInterval = TimeSpan.FromDays(49);
            Assert.Equal(TimeSpan.FromDays(49), SlabAllocator.ReapInterval);
        }
        finally
        {
            SlabAllocator.ReapInterval = before;
        }
    }
}

public unsafe class CacheNameTests
{
    [Theory]
    [InlineData("a\u200Bb", "U+200B")]      // zero-width space
    [InlineData("\uFEFFname", "U+FEFF")]    // byte order mark
    [InlineData("ab\u202Ecd", "U+202E")]    // right-to-left override
    [InlineData("x\u2066y", "U+2066")]      // left-to-right isolate
    [InlineData("a\u200Db", "U+200D")]      // zero-width joiner
    [InlineData("bad<D800>", "U+D800")]     // unpaired high surrogate (written in code: attributes cannot carry one)
    [InlineData("<DC00>bad", "U+DC00")]     // unpaired low surrogate
    [InlineData("bell\u0007", "U+0007")]    // control
    [InlineData("tab\tname", "U+0009")]     // whitespace
    [InlineData("nb\u00A0sp", "U+00A0")]    // no-break space
    [InlineData("pua\uE000", "U+E000")]     // private use
    [InlineData("\u0378x", "U+0378")]       // unassigned
    public void Names_that_would_not_print_unambiguously_are_refused(string name, string codePoint)
    {
        name = name.Replace("<D800>", "\uD800", StringComparison.Ordinal).Replace("<DC00>", "\uDC00", StringComparison.Ordinal);
        var e = Assert.Throws<ArgumentException>(() => SlabCache.Create(name, 64));
        Assert.Contains(codePoint, e.Message);
        Assert.False(e.Message.Contains(name, StringComparison.Ordinal), "the name is shown escaped");
        Assert.Contains("slab cache name '", e.Message);
    }

    [Theory]
    [InlineData("kmalloc-cg-8x")]
    [InlineData("ñandú_cache")]
    [InlineData("名前キャッシュ")]
    [InlineData("emoji_\U0001F600")]
    public void Printable_names_are_accepted(string name)
    {
        using SlabCache cache = SlabCache.Create(name + TestSupport.Name("_"), 64, flags: SlabFlags.Panic)!;
        Assert.StartsWith(name, cache.Name);
    }

    [Fact]
    public void A_name_taken_by_another_scope_is_qualified_with_the_scope()
    {
        string name = TestSupport.Name("scoped");
        using SlabCache<long> first = SlabCache<long>.Create(name, new SlabCacheOptions { NameScope = "Lib.A", Flags = SlabFlags.Panic });
        using SlabCache<long> second = SlabCache<long>.Create(name, new SlabCacheOptions { NameScope = "Lib B", Flags = SlabFlags.Panic });
        Assert.Equal(name, first.Name);
        Assert.Equal(name + "@Lib_B", second.Name); // the space would split a slabinfo row
        Assert.Equal(second.Name, second.Cache.Name);
        Assert.Contains("\n" + name + "@Lib_B ", SlabInfo.Read());
        // The same scope twice, or no scope, is a duplicate.
        Assert.Throws<ArgumentException>(() => SlabCache<long>.Create(name, new SlabCacheOptions { NameScope = "Lib B" }));
        Assert.Throws<ArgumentException>(() => SlabCache.Create(name, 64));
        // Aliases follow the same rule.
        using SlabCache target = SlabCache.Create(TestSupport.Name("scoped_target"), 64, flags: SlabFlags.Panic)!;
        using SlabCache<int> alias = SlabCache<int>.Alias(name, target, 0, nameScope: "Lib.C");
        Assert.Equal(name + "@Lib.C", alias.Name);
        Assert.Contains(name + "@Lib.C", target.Aliases);
        var tooLong = Assert.Throws<ArgumentException>(() => SlabCache<long>.Create(name, new SlabCacheOptions { NameScope = new string('x', 64) }));
        Assert.Contains("too long", tooLong.Message);
    }

    [Fact]
    public void Create_refuses_a_name_an_alias_has_taken()
    {
        using SlabCache target = SlabCache.Create(TestSupport.Name("alias_target"), 64, flags: SlabFlags.Panic)!;
        string alias = TestSupport.Name("alias_name");
        using SlabCache<long> typed = SlabCache<long>.Alias(alias, target);
        var e = Assert.Throws<ArgumentException>(() => SlabCache.Create(alias, 32));
        Assert.Contains($"alias merged into cache '{target.Name}'", e.Message);
        Assert.Throws<ArgumentException>(() => SlabCache<long>.Alias(alias, target));
    }
}
