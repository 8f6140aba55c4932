using System.Collections.Generic;

namespace SlabTop;

/// <summary>One cache as slabtop shows it, from the SlabGen meter's per-cache series.</summary>
internal sealed record CacheRow(
    string Name,
    long Objects,
    long ActiveObjects,
    long ObjectSize,
    long Slabs,
    long ActiveSlabs,
    long ObjectsPerSlab,
    long PagesPerSlab,
    long CacheBytes)
{
    /// <summary>USE: active objects as a whole percentage of objects (0 for an empty cache).</summary>
    public long Use => Objects == 0 ? 0 : ActiveObjects * 100 / Objects;
}

/// <summary>slabtop's header: totals over every cache (procps' <c>slabinfo</c> summary).</summary>
internal sealed record SlabSummary(
    long ActiveObjects, long Objects,
    long ActiveSlabs, long Slabs,
    long ActiveCaches, long Caches,
    long ActiveBytes, long Bytes,
    long MinObjectSize, double AverageObjectSize, long MaxObjectSize)
{
    /// <summary>Totals as slabtop computes them: a cache is active when it has an active object; sizes are objects times object size.</summary>
    public static SlabSummary Of(IReadOnlyCollection<CacheRow> rows)
    {
        long activeObjects = 0, objects = 0, activeSlabs = 0, slabs = 0, activeCaches = 0, activeBytes = 0, bytes = 0;
        long min = long.MaxValue, max = 0;
        foreach (CacheRow r in rows)
        {
            activeObjects += r.ActiveObjects;
            objects += r.Objects;
            activeSlabs += r.ActiveSlabs;
            slabs += r.Slabs;
            if (r.ActiveObjects > 0)
                activeCaches++;
            activeBytes += r.ActiveObjects * r.ObjectSize;
            bytes += r.Objects * r.ObjectSize;
            min = System.Math.Min(min, r.ObjectSize);
            max = System.Math.Max(max, r.ObjectSize);
        }
        return new SlabSummary(activeObjects, objects, activeSlabs, slabs, activeCaches, rows.Count, activeBytes, bytes,
            rows.Count == 0 ? 0 : min, objects == 0 ? 0 : (double)bytes / objects, max);
    }
}
