using System;
using System.Collections.Generic;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

/// <summary>The allocator as a whole: its boot state, the cache chain, the page source's totals and the reaper.</summary>
public static class SlabAllocator
{
    /// <summary>How far the allocator has come up (<c>slab_state</c>). Reading it brings the allocator up.</summary>
    public static SlabState State
    {
        get
        {
            CacheChain.EnsureUp();
            return CacheChain.State;
        }
    }

    /// <summary>Every live cache, in creation order (the cache chain).</summary>
    public static IReadOnlyList<SlabCache> Caches
    {
        get
        {
            CacheChain.EnsureUp();
            lock (CacheChain.Mutex)
                return CacheChain.Caches.ToArray();
        }
    }

    /// <summary>The live cache named <paramref name="name"/>, or null.</summary>
    public static SlabCache? Find(string name)
    {
        CacheChain.EnsureUp();
        lock (CacheChain.Mutex)
            return CacheChain.Find(name);
    }

    /// <summary>Bytes of slab and large-kmalloc blocks the page source has handed out now.</summary>
    public static long PageBytes => PageSource.BlockBytes;

    /// <summary>Bytes of freed blocks whose pages are still resident, kept for reuse; the reaper gives back those that stay idle for a pass, and <see cref="SlabCache.Shrink"/> a cache's at once.</summary>
    public static long ResidentFreeBytes => PageSource.ResidentFreeBytes;

    /// <summary>Bytes of slab descriptors (the struct page tables) for the arenas in use.</summary>
    public static long MetadataBytes => PageSource.MetadataBytes;

    /// <summary>
    /// Whether the background reaper runs: the timer, and a pass after each gen-2 GC, harder under memory pressure
    /// (default on; <c>SLABGEN_REAP=0</c>, <c>SLABGEN_NO_REAP=1</c> or the runtimeconfig property <c>SlabGen.Reap</c>
    /// start it off: docs/configuration.md).
    /// </summary>
    public static bool PeriodicReap
    {
        get => CacheReaper.Enabled;
        set => CacheReaper.Enabled = value;
    }

    /// <summary>Time between background reaping passes (default 2 s, <c>REAPTIMEOUT_AC</c>; <c>SLABGEN_REAP_INTERVAL_MS</c> or <c>SlabGen.ReapIntervalMs</c> sets the start value).</summary>
    public static TimeSpan ReapInterval
    {
        get => CacheReaper.Interval;
        set => CacheReaper.Interval = value;
    }

    /// <summary>Background passes completed so far.</summary>
    public static long ReapPasses => CacheReaper.Passes;

    /// <summary>Runs one reaping pass over every cache now; returns the slabs given back to the page source.</summary>
    public static int ReapNow()
    {
        CacheChain.EnsureUp();
        return CacheReaper.ReapAll(blocking: true);
    }
}
