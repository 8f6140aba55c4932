using System;
using System.Collections.Generic;
using System.Threading;
using SlabGen.Core;
using Xunit;

namespace SlabGen.Tests;

public unsafe class TuneTests
{
    [Fact]
    public void Tune_changes_limits_and_free_limit_and_keeps_every_object()
    {
        using var cache = SlabCache.Create(TestSupport.Name("tune"), 64)!;
        var live = new List<nint>();
        for (int i = 0; i < 1000; i++)
            live.Add((nint)cache.Alloc());
        for (int i = 0; i < 500; i++)
            cache.Free((void*)live[i]);
        live.RemoveRange(0, 500);
        cache.Tune(32, 8, 2);
        Assert.Equal((32, 8, 2), (cache.Limit, cache.BatchCount, cache.SharedFactor));
        int cpusOnNode = NodeTopology.Machine.CpusOnNode(0);
        Assert.Equal((1L + cpusOnNode) * 8 + cache.ObjectsPerSlab, TestSupport.NodeState(cache, 0).FreeLimit);
        TestSupport.AssertBalanced(cache, live.Count);
        Assert.True(cache.GetSlabInfo().SharedAvail <= 16);
        foreach (nint p in live)
            cache.Free((void*)p);
        TestSupport.AssertBalanced(cache, 0);
        cache.Tune(1, 1, 0);
        Assert.Equal(0, cache.GetSlabInfo().SharedAvail);
        TestSupport.AssertBalanced(cache, 0);
    }

    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(10, 11, 1)]
    [InlineData(10, 0, 1)]
    [InlineData(10, 5, -1)]
    [InlineData(5000, 5, 1)]
    public void Invalid_tunables_throw_and_leave_the_cache_untouched(int limit, int batch, int shared)
    {
        string name = TestSupport.Name("badtune");
        using var cache = SlabCache.Create(name, 64)!;
        var before = (cache.Limit, cache.BatchCount, cache.SharedFactor);
        var e = Assert.Throws<ArgumentException>(() => cache.Tune(limit, batch, shared));
        Assert.Contains(name, e.Message);
        Assert.Equal(before, (cache.Limit, cache.BatchCount, cache.SharedFactor));
    }

    [Fact]
    public void A_failed_allocation_rolls_the_whole_tune_back()
    {
        using var cache = SlabCache.Create(TestSupport.Name("rollback"), 64)!;
        var live = new List<nint>();
        for (int i = 0; i < 700; i++)
            live.Add((nint)cache.Alloc());
        for (int i = 0; i < 350; i++)
            cache.Free((void*)live[i]);
        live.RemoveRange(0, 350);
        SlabInfoRow before = cache.GetSlabInfo();
        long cachedBefore = cache.CachedObjects();
        Assert.True(cache.Nodes[0].DepotObjects() > 0); // the depot's full magazines must survive a failed tune too
        int arrays = cache.Topology.CpuCount + 2 * cache.NodeCount; // per-CPU arrays, shared arrays, then depots
        for (int failAt = 0; failAt < arrays; failAt++)
        {
            using (FaultInjection.FailAfter(failAt))
                Assert.Throws<OutOfMemoryException>(() => cache.Tune(200, 100, 4));
            Assert.Equal(before, cache.GetSlabInfo());
            Assert.Equal(cachedBefore, cache.CachedObjects());
        }
        // The objects the cache held are all still handed out exactly once.
        var seen = new HashSet<nint>(live);
        for (int i = 0; i < 350; i++)
        {
            nint p = (nint)cache.Alloc();
            Assert.True(seen.Add(p));
            live.Add(p);
        }
        foreach (nint p in live)
            cache.Free((void*)p);
        TestSupport.AssertBalanced(cache, 0);
    }

    [Fact]
    public void Tune_is_safe_while_two_threads_allocate_and_free()
    {
        using var cache = SlabCache.Create(TestSupport.Name("tuneload"), 64)!;
        const int OpsPerThread = 200_000;
        const int MinTunes = 20;
        var errors = new List<string>();
        int running = 2;
        int tunes = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        void Worker(long threadId)
        {
            var held = new Queue<nint>();
            var rng = new Random((int)threadId);
            // A handshake, not a clock: the workers go on until the tuner has re-tuned the cache under them MinTunes times.
            for (long i = 0; (i < OpsPerThread || Volatile.Read(ref tunes) < MinTunes) && DateTime.UtcNow < deadline; i++)
            {
                if (held.Count < 64 && (held.Count == 0 || rng.Next(3) != 0))
                {
                    long* p = (long*)cache.Alloc();
                    if (p[1] == 0x5151_5151) // still marked as held by someone
                        lock (errors) errors.Add($"object 0x{(nint)p:x} handed out twice");
                    p[0] = (threadId << 40) | i;
                    p[1] = 0x5151_5151;
                    held.Enqueue((nint)p);
                }
                else
                {
                    long* p = (long*)held.Dequeue();
                    if ((p[0] >> 40) != threadId || p[1] != 0x5151_5151)
                        lock (errors) errors.Add($"object 0x{(nint)p:x} was overwritten");
                    p[1] = 0;
                    cache.Free(p);
                }
            }
            while (held.Count > 0)
            {
                long* p = (long*)held.Dequeue();
                p[1] = 0;
                cache.Free(p);
            }
            Interlocked.Decrement(ref running);
        }
        var t1 = new Thread(() => Worker(1));
        var t2 = new Thread(() => Worker(2));
        t1.Start();
        t2.Start();
        while (Volatile.Read(ref running) > 0 && DateTime.UtcNow < deadline)
        {
            if (tunes % 2 == 0)
                cache.Tune(16, 4, 1);
            else
                cache.Tune(120, 60, 8);
            Interlocked.Increment(ref tunes);
            Thread.Sleep(1);
        }
        Assert.True(t1.Join(TimeSpan.FromSeconds(30)));
        Assert.True(t2.Join(TimeSpan.FromSeconds(30)));
        Assert.Empty(errors);
        Assert.True(tunes >= MinTunes, $"only {tunes} tunes ran before the deadline");
        SlabStatistics s = cache.GetStatistics();
        Assert.Equal(s.Allocations, s.Frees);
        TestSupport.AssertBalanced(cache, 0);
        cache.Shrink();
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
    }
}
