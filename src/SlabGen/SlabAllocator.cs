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
            using (CacheChain.Enter())
                return CacheChain.Caches.ToArray();
        }
    }

    /// <summary>The live cache named <paramref name="name"/>, or null.</summary>
    public static SlabCache? Find(string name)
    {
        CacheChain.EnsureUp();
        using (CacheChain.Enter())
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

    /// <summary>
    /// Time between background reaping passes (default 2 s, <c>REAPTIMEOUT_AC</c>; <c>SLABGEN_REAP_INTERVAL_MS</c> or
    /// <c>SlabGen.ReapIntervalMs</c> sets the start value): whole milliseconds from 1 ms to about 49.7 days, the range
    /// the timer honours. A fraction of a millisecond is dropped, and the getter returns the value in use.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1 ms or above the timer's range; nothing changes.</exception>
    public static TimeSpan ReapInterval
    {
        get => CacheReaper.Interval;
        set => CacheReaper.Interval = value;
    }

    /// <summary>Background passes completed so far.</summary>
    public static long ReapPasses => CacheReaper.Passes;

    /// <summary>
    /// Where reports of damaged slab memory are written, in the kernel's form (<c>BUG</c> / <c>INFO</c> / <c>FIX</c>
    /// lines); standard error by default, null for nowhere. See <see cref="SlabError"/>.
    /// </summary>
    public static System.IO.TextWriter? ErrorWriter
    {
        get => SlabErrors.Writer;
        set => SlabErrors.Writer = value;
    }

    /// <summary>
    /// Raised for each report of damaged slab memory, on the thread that found it, after the allocator has released its
    /// locks. A handler must not throw: an exception from it is written to <see cref="ErrorWriter"/> and dropped, so that
    /// the allocation or free that found the damage still completes.
    /// </summary>
    public static event Action<SlabError>? ErrorReported
    {
        add => SlabErrors.Reported += value;
        remove => SlabErrors.Reported -= value;
    }

    /// <summary>Reports of damaged slab memory since the process started.</summary>
    public static long ErrorCount => SlabErrors.Count;

    /// <summary>Runs one reaping pass over every cache now; returns the slabs given back to the page source.</summary>
    public static int ReapNow()
    {
        CacheChain.EnsureUp();
        return CacheReaper.ReapAll(blocking: true);
    }
}
