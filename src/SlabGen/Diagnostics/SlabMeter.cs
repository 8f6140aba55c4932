using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen.Diagnostics;

/// <summary>
/// The <c>SlabGen</c> meter: <c>/proc/slabinfo</c> and the STATS counters as observable instruments, one time series
/// per cache tagged <see cref="SlabMeterNames.CacheName"/>, plus the page source's totals. Every instrument is
/// observable: nothing is recorded on an allocation or free, and each collection walks the cache chain under
/// <see cref="CacheChain.Mutex"/> (as <see cref="SlabInfo.Write"/> does), so a cache destroyed between two
/// collections is simply absent from the second.
/// </summary>
internal static class SlabMeter
{
    private static Meter? s_meter;

    /// <summary>The meter, once the allocator is up.</summary>
    public static Meter? Meter => Volatile.Read(ref s_meter);

    /// <summary>
    /// Creates the meter and its instruments once (<c>slab_proc_init</c>, which registers <c>/proc/slabinfo</c>).
    /// Called when the allocator comes up.
    /// </summary>
    public static void Start()
    {
        if (Volatile.Read(ref s_meter) != null)
            return;
        var meter = new Meter(SlabMeterNames.Meter, typeof(SlabMeter).Assembly.GetName().Version?.ToString(3));
        if (Interlocked.CompareExchange(ref s_meter, meter, null) != null)
        {
            meter.Dispose();
            return;
        }

        // Per cache, from its slabinfo row (get_slabinfo).
        meter.CreateObservableUpDownCounter(SlabMeterNames.ObjectsActive, () => PerCache(static r => r.ActiveObjs),
            "{object}", "Objects in use, including those held by the caches' magazines, depots and arrays (slabinfo active_objs).");
        meter.CreateObservableUpDownCounter(SlabMeterNames.ObjectsTotal, () => PerCache(static r => r.NumObjs),
            "{object}", "Object slots in the cache's slabs (slabinfo num_objs).");
        meter.CreateObservableUpDownCounter(SlabMeterNames.SlabsActive, () => PerCache(static r => r.ActiveSlabs),
            "{slab}", "Slabs with at least one object in use (slabinfo active_slabs).");
        meter.CreateObservableUpDownCounter(SlabMeterNames.SlabsTotal, () => PerCache(static r => r.NumSlabs),
            "{slab}", "Slabs the cache holds (slabinfo num_slabs).");
        meter.CreateObservableUpDownCounter(SlabMeterNames.SlabsQuarantined, () => PerCacheStatistics(static s => s.QuarantinedSlabs),
            "{slab}", "Slabs found damaged and taken out of service: never allocated from again while the cache lives.");
        meter.CreateObservableUpDownCounter(SlabMeterNames.MemoryUsage, () => PerCache(static r => r.NumSlabs * r.PagesPerSlab * (long)PageSource.PageSize),
            "By", "Bytes of the slabs the cache holds (slabtop's CACHE SIZE).");
        meter.CreateObservableUpDownCounter(SlabMeterNames.SharedAvailable, () => PerCache(static r => r.SharedAvail),
            "{object}", "Objects in the cache's per-node shared arrays (slabinfo sharedavail).");
        meter.CreateObservableGauge(SlabMeterNames.ObjectSize, () => PerCache(static r => r.ObjSize),
            "By", "Bytes per object slot (slabinfo objsize).");
        meter.CreateObservableGauge(SlabMeterNames.SlabObjects, () => PerCache(static r => r.ObjPerSlab),
            "{object}", "Objects per slab (slabinfo objperslab).");
        meter.CreateObservableGauge(SlabMeterNames.SlabPages, () => PerCache(static r => r.PagesPerSlab),
            "{page}", "Pages per slab (slabinfo pagesperslab).");

        // Per cache, from its STATS counters; hit ratio = hit / (hit + miss).
        meter.CreateObservableCounter(SlabMeterNames.Allocations,
            () => PerCacheSplit(SlabMeterNames.Result, SlabMeterNames.Hit, static s => s.AllocHit, SlabMeterNames.Miss, static s => s.AllocMiss),
            "{allocation}", "Allocations: hit when a magazine or per-CPU array served it, miss when the array refilled from the node.");
        meter.CreateObservableCounter(SlabMeterNames.Frees,
            () => PerCacheSplit(SlabMeterNames.Result, SlabMeterNames.Hit, static s => s.FreeHit, SlabMeterNames.Miss, static s => s.FreeMiss),
            "{free}", "Frees: hit when a magazine or per-CPU array took it, miss when the array flushed to the node.");
        meter.CreateObservableCounter(SlabMeterNames.RemoteFrees, () => PerCacheStatistics(static s => s.RemoteFrees),
            "{free}", "Frees of objects whose slab belongs to another node.");
        meter.CreateObservableCounter(SlabMeterNames.DepotExchanges,
            () => PerCacheSplit(SlabMeterNames.DepotOperation, SlabMeterNames.DepotGet, static s => s.DepotGet, SlabMeterNames.DepotPut, static s => s.DepotPut),
            "{magazine}", "Whole magazines taken from (get) or given to (put) the node depots.");
        meter.CreateObservableCounter(SlabMeterNames.SlabsGrown, () => PerCacheStatistics(static s => s.Grown),
            "{slab}", "Slabs the cache has grown (cache_grow).");
        meter.CreateObservableCounter(SlabMeterNames.SlabsReaped, () => PerCacheStatistics(static s => s.Reaped),
            "{slab}", "Free slabs the cache's reaping passes have given back to the page source (cache_reap).");

        // The allocator as a whole.
        meter.CreateObservableUpDownCounter(SlabMeterNames.Caches, CacheCount,
            "{cache}", "Live caches, kmalloc caches included.");
        meter.CreateObservableUpDownCounter(SlabMeterNames.PageMemory, static () => SlabAllocator.PageBytes,
            "By", "Bytes of slab and large-kmalloc blocks handed out by the page source.");
        meter.CreateObservableUpDownCounter(SlabMeterNames.MetadataMemory, static () => SlabAllocator.MetadataBytes,
            "By", "Bytes of slab descriptors for the arenas in use.");
        meter.CreateObservableUpDownCounter(SlabMeterNames.ResidentFreeMemory, static () => SlabAllocator.ResidentFreeBytes,
            "By", "Bytes of freed blocks whose pages are still resident, kept for reuse.");
        meter.CreateObservableCounter(SlabMeterNames.ReapPasses, static () => SlabAllocator.ReapPasses,
            "{pass}", "Background reaping passes completed.");
    }

    private static KeyValuePair<string, object?> CacheTag(SlabCache cache) => new(SlabMeterNames.CacheName, cache.Name);

    /// <summary>One measurement per live cache, from its slabinfo row.</summary>
    private static Measurement<long>[] PerCache(Func<SlabInfoRow, long> select)
    {
        lock (CacheChain.Mutex)
        {
            List<SlabCache> chain = CacheChain.Caches;
            var measurements = new Measurement<long>[chain.Count];
            for (int i = 0; i < measurements.Length; i++)
                measurements[i] = new Measurement<long>(select(chain[i].GetSlabInfo()), CacheTag(chain[i]));
            return measurements;
        }
    }

    /// <summary>One measurement per live cache, from its STATS counters.</summary>
    private static Measurement<long>[] PerCacheStatistics(Func<SlabStatistics, long> select)
    {
        lock (CacheChain.Mutex)
        {
            List<SlabCache> chain = CacheChain.Caches;
            var measurements = new Measurement<long>[chain.Count];
            for (int i = 0; i < measurements.Length; i++)
                measurements[i] = new Measurement<long>(select(chain[i].GetStatistics()), CacheTag(chain[i]));
            return measurements;
        }
    }

    /// <summary>Two measurements per live cache, from one reading of its STATS counters, told apart by <paramref name="tag"/>.</summary>
    private static Measurement<long>[] PerCacheSplit(string tag, string first, Func<SlabStatistics, long> selectFirst,
        string second, Func<SlabStatistics, long> selectSecond)
    {
        lock (CacheChain.Mutex)
        {
            List<SlabCache> chain = CacheChain.Caches;
            var measurements = new Measurement<long>[chain.Count * 2];
            for (int i = 0; i < chain.Count; i++)
            {
                SlabStatistics s = chain[i].GetStatistics();
                measurements[2 * i] = new Measurement<long>(selectFirst(s), CacheTag(chain[i]), new KeyValuePair<string, object?>(tag, first));
                measurements[2 * i + 1] = new Measurement<long>(selectSecond(s), CacheTag(chain[i]), new KeyValuePair<string, object?>(tag, second));
            }
            return measurements;
        }
    }

    private static int CacheCount()
    {
        lock (CacheChain.Mutex)
            return CacheChain.Caches.Count;
    }
}
