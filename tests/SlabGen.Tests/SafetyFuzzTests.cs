using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// A seeded fuzz test: random valid operations from two threads interleaved with invalid ones (double frees through
/// every entry point, foreign, interior and misaligned pointers, use-after-free writes into free objects, overflows into
/// free neighbours), checked against a model. Every invalid free is refused, every damage is reported (its slab
/// quarantined), no object is ever handed out twice or outside its cache, and the counters balance.
/// </summary>
public unsafe class SafetyFuzzTests
{
    private enum State { Live, Free, Tainted }

    /// <summary>A thread that runs what it is given, one action at a time, and hands back what the action threw.</summary>
    private sealed class Other : IDisposable
    {
        private readonly BlockingCollection<(Action Action, ManualResetEventSlim Done)> _work = new();
        private readonly Thread _thread;
        private Exception? _thrown;

        public Other()
        {
            _thread = new Thread(() =>
            {
                foreach ((Action action, ManualResetEventSlim done) in _work.GetConsumingEnumerable())
                {
                    try
                    {
                        action();
                    }
                    catch (Exception e)
                    {
                        _thrown = e;
                    }
                    done.Set();
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public void Run(Action action)
        {
            using var done = new ManualResetEventSlim();
            _thrown = null;
            _work.Add((action, done));
            Assert.True(done.Wait(TimeSpan.FromSeconds(30)), "the other thread did not finish its step");
            if (_thrown != null)
                throw _thrown;
        }

        public void Dispose()
        {
            _work.CompleteAdding();
            Assert.True(_thread.Join(TimeSpan.FromSeconds(30)));
            _work.Dispose();
        }
    }

    private static void Ctor(void* obj) => *(long*)obj = 0;

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    [InlineData(5, true)]
    public void Random_valid_and_invalid_operations_never_corrupt_the_cache(int seed, bool withCtor)
    {
        var rng = new Random(seed);
        var options = new SlabCacheOptions
        {
            Size = 64, Limit = 8, BatchCount = 4, SharedFactor = 2, Flags = SlabFlags.Panic,
            Ctor = withCtor ? &Ctor : null,
        };
        using SlabCache cache = SlabCache.Create(TestSupport.Name("fuzz"), options)!;
        using SlabCache stranger = SlabCache.Create(TestSupport.Name("fuzz_other"), 64, flags: SlabFlags.Panic)!;
        using var other = new Other();
        var reportedSlabs = new ConcurrentDictionary<nuint, bool>();
        void OnError(SlabError e)
        {
            if (e.CacheName == cache.Name)
                reportedSlabs[e.Slab] = true;
        }
        SlabAllocator.ErrorReported += OnError;
        void* strangers = stranger.Alloc();
        nint native = (nint)NativeMemory.Alloc(256);
        long onStack = 0;
        // One object held throughout keeps the cache's arena its own, so no write below can reach another cache's memory.
        nint anchor = (nint)cache.Alloc();
        var model = new Dictionary<nint, State>();
        var live = new List<nint>();
        nint slabMask = (nint)(4096 << cache.Order) - 1;
        int size = cache.Size, offset = cache.FreePointerOffset, objectSize = cache.ObjectSize;
        int doubleFrees = 0, foreign = 0, damaged = 0;

        void On(bool otherThread, Action a)
        {
            if (otherThread)
                other.Run(a);
            else
                a();
        }
        nint Pick(State s)
        {
            var candidates = model.Where(kv => kv.Value == s).Select(kv => kv.Key).ToList();
            return candidates.Count == 0 ? 0 : candidates[rng.Next(candidates.Count)];
        }
        void Stamp(nint p) { ((long*)p)[0] = p; ((long*)(p + objectSize))[-1] = ~p; }
        bool Stamped(nint p) => ((long*)p)[0] == p && ((long*)(p + objectSize))[-1] == ~p;

        try
        {
            for (int op = 0; op < 6000; op++)
            {
                bool onOther = rng.Next(2) == 0;
                int roll = rng.Next(100);
                if (roll < 35 || live.Count == 0)
                {
                    nint p = 0;
                    On(onOther, () => p = (nint)cache.Alloc());
                    Assert.True(cache.Contains((void*)p), $"0x{p:x} is not an object of the cache");
                    Assert.NotEqual(anchor, p);
                    if (model.TryGetValue(p, out State s))
                        Assert.True(s == State.Free, $"0x{p:x} handed out while {s}");
                    model[p] = State.Live;
                    live.Add(p);
                    Stamp(p);
                }
                else if (roll < 65)
                {
                    int i = rng.Next(live.Count);
                    nint p = live[i];
                    Assert.True(Stamped(p), $"the contents of live object 0x{p:x} changed");
                    if (rng.Next(4) == 0)
                        On(onOther, () => cache.FreeBulk([p]));
                    else
                        On(onOther, () => cache.Free((void*)p));
                    live.RemoveAt(i);
                    model[p] = State.Free;
                }
                else if (roll < 75)
                {
                    nint p = Pick(State.Free);
                    if (p == 0)
                        continue;
                    nint bystander = live.Count > 0 ? live[rng.Next(live.Count)] : 0;
                    SlabInfoRow before = cache.GetSlabInfo();
                    Exception? e = null;
                    try
                    {
                        switch (rng.Next(3))
                        {
                            case 0: On(onOther, () => cache.Free((void*)p)); break;
                            case 1: On(onOther, () => cache.FreeBulk([p])); break;
                            default: On(onOther, () => cache.FreeBulk([bystander, p])); break;
                        }
                    }
                    catch (Exception thrown)
                    {
                        e = thrown;
                    }
                    // Refused: as a double free while the object sits in a layer or on its slab, as a pointer into no
                    // slab once its slab has been given back (or, its arena given back too, into another cache's slab
                    // or a large kmalloc block in a parallel run), or as a slot not handed out since its slab was made
                    // again.
                    Assert.True(e is DoubleFreeException
                        || (e is ArgumentException && (e.Message.Contains("given back") || TestSupport.RefusedAsNotOurs(e.Message)
                            || e.Message.Contains("has not been handed out"))),
                        $"a double free of 0x{p:x} was not refused: {e?.GetType().Name} {e?.Message}");
                    Assert.Equal(before, cache.GetSlabInfo());
                    if (bystander != 0)
                        Assert.True(Stamped(bystander)); // the refused bulk free left it allocated and intact
                    doubleFrees++;
                }
                else if (roll < 80)
                {
                    nint bad = rng.Next(5) switch
                    {
                        0 => (nint)(&onStack),
                        1 => native,
                        2 => (nint)strangers,
                        3 => live[rng.Next(live.Count)] + 8,
                        _ => live[rng.Next(live.Count)] + 1,
                    };
                    SlabInfoRow before = cache.GetSlabInfo();
                    Assert.Throws<ArgumentException>(() => On(onOther, () => cache.Free((void*)bad)));
                    Assert.Equal(before, cache.GetSlabInfo());
                    foreign++;
                }
                else if (roll < 85)
                {
                    // A use-after-free write into the free pointer of a free object whose slab is live.
                    nint p = Pick(State.Free);
                    if (p == 0 || !cache.Contains((void*)p))
                        continue;
                    *(ulong*)(p + offset) = (ulong)rng.NextInt64();
                    model[p] = State.Tainted;
                    damaged++;
                }
                else if (roll < 90)
                {
                    // An overflow of 40 bytes past the end of a live object, into a free neighbour of the same slab.
                    nint a = live[rng.Next(live.Count)];
                    nint b = a + size;
                    if (((a ^ b) & ~slabMask) != 0 || !model.TryGetValue(b, out State sb) || sb != State.Free || !cache.Contains((void*)b))
                        continue;
                    new Span<byte>((void*)(a + objectSize), 40).Fill(0xfe);
                    if (a + objectSize + 40 > b + offset) // it reached the neighbour's free pointer
                    {
                        model[b] = State.Tainted;
                        damaged++;
                    }
                }
                else if (roll < 95)
                {
                    On(onOther, () => cache.Shrink());
                }
                else if (roll < 98)
                {
                    On(onOther, () => cache.Reap());
                }
                else
                {
                    On(onOther, () => cache.Tune(rng.Next(2) == 0 ? 8 : 32, 4, rng.Next(3)));
                }
            }

            foreach (nint p in live)
            {
                Assert.True(Stamped(p));
                cache.Free((void*)p);
            }
            cache.Free((void*)anchor);
            other.Run(() => cache.Shrink()); // each thread takes its own magazine whole
            cache.Shrink();

            Assert.True(doubleFrees > 100 && foreign > 100 && damaged > 20, $"{doubleFrees} double frees, {foreign} foreign, {damaged} damaged");
            // Every damaged object's slab was reported and quarantined; nothing else is left.
            foreach (nint p in model.Where(kv => kv.Value == State.Tainted).Select(kv => kv.Key))
                Assert.True(reportedSlabs.ContainsKey((nuint)(p & ~slabMask)), $"the damage to 0x{p:x} was never reported");
            SlabStatistics stats = cache.GetStatistics();
            Assert.Equal(stats.Allocations, stats.Frees);
            SlabInfoRow row = cache.GetSlabInfo();
            Assert.Equal(stats.QuarantinedSlabs, row.NumSlabs);
            Assert.Equal(reportedSlabs.Count, row.NumSlabs);
            Assert.Equal(row.NumObjs, row.ActiveObjs); // quarantined slabs count as wholly in use
        }
        finally
        {
            SlabAllocator.ErrorReported -= OnError;
            stranger.Free(strangers);
            NativeMemory.Free((void*)native);
        }
    }
}
