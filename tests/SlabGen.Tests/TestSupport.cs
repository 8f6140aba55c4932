using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using SlabGen.Core;
using Xunit;

[assembly: CollectionBehavior(MaxParallelThreads = 4)]

namespace SlabGen.Tests;

/// <summary>Tests that change process-wide settings (the reaper timer) run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial";
}

internal static class TestSupport
{
    private static int s_counter;

    /// <summary>
    /// The reaper timer, and magazine resizing on the thread pool, would make cached-object counts move under the
    /// tests' feet: both are off unless a test turns them on (a cache with <c>AutoTune = true</c>). The damage reports
    /// the hardening tests provoke on purpose are checked through the event, not printed.
    /// </summary>
    [ModuleInitializer]
    internal static void DisableBackgroundReaping()
    {
        Environment.SetEnvironmentVariable("SLABGEN_NO_REAP", "1");
        Environment.SetEnvironmentVariable("SLABGEN_AUTOTUNE", "0");
        SlabAllocator.ErrorWriter = null;
    }

    /// <summary>A cache name unique in this process.</summary>
    public static string Name(string prefix) => $"{prefix}_{Interlocked.Increment(ref s_counter)}";

    /// <summary>
    /// True when a free was refused because the pointer's memory is no longer the cache's: nobody's, another cache's
    /// slab, or a large kmalloc block (in a parallel run the page source hands given-back memory on at once).
    /// </summary>
    public static bool RefusedAsNotOurs(string message)
        => message.Contains("no cache holds") || message.Contains("belongs to cache") || message.Contains("a large kmalloc block");

    /// <summary>Allocates <paramref name="count"/> objects of <paramref name="cache"/>, in order.</summary>
    public static unsafe nint[] AllocMany(SlabCache cache, int count)
    {
        var objs = new nint[count];
        for (int i = 0; i < count; i++)
            objs[i] = (nint)cache.Alloc();
        return objs;
    }

    /// <summary>Frees every one of <paramref name="objs"/>, in order.</summary>
    public static unsafe void FreeAll(SlabCache cache, IEnumerable<nint> objs)
    {
        foreach (nint p in objs)
            cache.Free((void*)p);
    }

    /// <summary>Allocates <paramref name="count"/> objects and frees them all again.</summary>
    public static void Churn(SlabCache cache, int count) => FreeAll(cache, AllocMany(cache, count));

    /// <summary>
    /// Runs <paramref name="body"/> on a thread of its own and returns what it threw (null if nothing); fails with
    /// <paramref name="hung"/> if it has not finished within 30 seconds.
    /// </summary>
    public static Exception? OnThread(Action body, string hung)
    {
        Exception? thrown = null;
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                thrown = e;
            }
        }) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), hung);
        return thrown;
    }

    /// <summary>Runs <paramref name="body"/> on a thread that reports CPU <paramref name="cpu"/>.</summary>
    public static void OnCpu(int cpu, Action body)
    {
        using (NodeTopology.PinCurrentThread(cpu))
            body();
    }

    /// <summary>Per node: (total slabs, free objects in slabs, free_limit), read under the node's list lock.</summary>
    public static (int Slabs, long FreeObjects, long FreeLimit) NodeState(SlabCache cache, int node)
    {
        KmemCacheNode n = cache.Nodes[node];
        using (n.ListLock.EnterScope())
            return (n.TotalSlabs, n.FreeObjects, n.FreeLimit);
    }

    /// <summary>The node whose lists own <paramref name="obj"/>'s slab.</summary>
    public static unsafe int NodeOfObject(SlabCache cache, void* obj) => PageAlloc.PageSource.VirtToSlab(obj, cache.Order)->Node;

    /// <summary>
    /// Asserts that <paramref name="rounds"/> calls of <paramref name="round"/> allocate no managed memory on this thread,
    /// in at least one of three windows. A window may see a one-time allocation of the runtime's own (a
    /// <see cref="System.Threading.Lock"/> makes its wait event the first time it is contended, say by a reap pass);
    /// an allocation per round shows in every window.
    /// </summary>
    public static void AssertNoManagedAllocation(Action round, int rounds)
    {
        var windows = new long[3];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < rounds; i++)
                round();
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
            if (windows[w] == 0)
                return;
        }
        Assert.Fail($"{rounds} rounds allocated managed memory in every window: {string.Join(", ", windows)} bytes");
    }

    /// <summary>Everything the caching layers hold, plus the slab state, must add up to the live objects.</summary>
    public static void AssertBalanced(SlabCache cache, long live)
    {
        // Exited threads' magazines go back now: a reap pass or a finalizer doing it between the two reads below would
        // move their objects from "cached" to the slabs after the row was read.
        using (CacheChain.Enter())
            ThreadMagazines.ReclaimExited();
        SlabInfoRow row = cache.GetSlabInfo();
        long cached = cache.CachedObjects();
        Assert.Equal(row.NumSlabs * row.ObjPerSlab, row.NumObjs);
        Assert.Equal(live + cached, row.ActiveObjs);
        Assert.True(row.ActiveSlabs <= row.NumSlabs);
        Assert.Equal(row.NumSlabs, cache.Pages.Blocks);
    }
}
