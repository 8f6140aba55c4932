using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using SlabGen.PageAlloc;
using Xunit;

namespace SlabGen.Tests;

public unsafe class StressTests
{
    /// <summary>
    /// Four threads on two cores allocate, stamp and hand objects to each other through queues; every object is
    /// verified by whoever frees it. Bounded in operations and time; at the end every count balances and the cache
    /// can be destroyed, which proves nothing leaked.
    /// </summary>
    [Fact]
    public void Cross_thread_frees_keep_every_object_intact_and_nothing_leaks()
    {
        const int Threads = 4, OpsPerThread = 150_000;
        using var cache = SlabCache.Create(TestSupport.Name("stress"), 96)!;
        var queues = new ConcurrentQueue<nint>[Threads];
        for (int i = 0; i < Threads; i++)
            queues[i] = new ConcurrentQueue<nint>();
        var errors = new ConcurrentQueue<string>();
        long allocated = 0, freed = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);

        void Verify(long* p)
        {
            long owner = p[0], seq = p[1];
            if (p[2] != (owner ^ seq ^ 0x5eed) || p[11] != ~(owner ^ seq))
                errors.Enqueue($"object 0x{(nint)p:x} corrupted: {owner} {seq} {p[2]} {p[11]}");
            p[2] = 0; // a second free of this object would fail the check above
        }

        void Worker(int me)
        {
            var rng = new Random(me);
            var local = new List<nint>();
            for (int i = 0; i < OpsPerThread && DateTime.UtcNow < deadline; i++)
            {
                int action = rng.Next(10);
                if (action < 5)
                {
                    long* p = (long*)cache.Alloc();
                    p[0] = me;
                    p[1] = i;
                    p[2] = me ^ i ^ 0x5eed;
                    p[11] = ~((long)me ^ i);
                    Interlocked.Increment(ref allocated);
                    if (action < 3)
                        local.Add((nint)p);
                    else
                        queues[(me + 1 + rng.Next(Threads - 1)) % Threads].Enqueue((nint)p); // someone else frees it
                }
                else if (action < 8 && local.Count > 0)
                {
                    int at = rng.Next(local.Count);
                    long* p = (long*)local[at];
                    local[at] = local[^1];
                    local.RemoveAt(local.Count - 1);
                    Verify(p);
                    cache.Free(p);
                    Interlocked.Increment(ref freed);
                }
                else if (queues[me].TryDequeue(out nint q))
                {
                    Verify((long*)q);
                    cache.Free((void*)q);
                    Interlocked.Increment(ref freed);
                }
            }
            foreach (nint p in local)
            {
                Verify((long*)p);
                cache.Free((void*)p);
                Interlocked.Increment(ref freed);
            }
        }

        var threads = new Thread[Threads];
        for (int i = 0; i < Threads; i++)
        {
            int me = i;
            threads[i] = new Thread(() => Worker(me));
            threads[i].Start();
        }
        foreach (Thread t in threads)
            Assert.True(t.Join(TimeSpan.FromSeconds(30)), "a thread did not finish");
        foreach (var q in queues)
            while (q.TryDequeue(out nint p))
            {
                Verify((long*)p);
                cache.Free((void*)p);
                freed++;
            }

        Assert.Empty(errors);
        Assert.Equal(allocated, freed);
        SlabStatistics s = cache.GetStatistics();
        Assert.Equal(allocated, s.Allocations);
        Assert.Equal(freed, s.Frees);
        TestSupport.AssertBalanced(cache, 0);
        cache.Shrink();
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
    }

    /// <summary>1,000,000 live 64-byte objects cost at most 10% over their 64 MB; after freeing and Shrink, no slabs remain.</summary>
    [Fact]
    public void A_million_live_64_byte_objects_cost_at_most_ten_percent_over_the_payload()
    {
        const int Count = 1_000_000;
        using var cache = SlabCache.Create(TestSupport.Name("million"), 64)!;
        long metadataBefore = PageSource.MetadataBytes;
        var objs = new nint[Count];
        for (int i = 0; i < Count; i++)
        {
            long* p = (long*)cache.Alloc();
            *p = i;
            objs[i] = (nint)p;
        }
        long slabBytes = (long)cache.Pages.Blocks << (PageSource.PageShift + cache.Order);
        long metadata = PageSource.MetadataBytes - metadataBefore; // this cache's descriptor tables (other tests may add a little)
        long payload = 64L * Count;
        Assert.True(slabBytes + metadata <= payload * 110 / 100,
            $"{slabBytes} bytes of slabs + {metadata} of descriptors for {payload} bytes of objects");
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(i, *(long*)objs[i]);
            cache.Free((void*)objs[i]);
        }
        cache.Shrink();
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
        Assert.Equal(0, cache.Pages.Blocks);
    }
}
