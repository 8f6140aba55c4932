using System;
using System.Collections.Generic;
using SlabGen.Diagnostics;

namespace SlabTop;

/// <summary>One collection interval of the SlabGen meter: the caches' rows and the allocator's totals.</summary>
internal sealed record SlabSnapshot(IReadOnlyList<CacheRow> Rows, IReadOnlyDictionary<string, long> Totals)
{
    /// <summary>The series slabtop's columns come from; a cache whose interval lacks one is left out until it has them all.</summary>
    private static readonly string[] Required =
    {
        SlabMeterNames.ObjectsTotal, SlabMeterNames.ObjectsActive, SlabMeterNames.ObjectSize, SlabMeterNames.SlabsTotal,
        SlabMeterNames.SlabsActive, SlabMeterNames.SlabObjects, SlabMeterNames.SlabPages, SlabMeterNames.MemoryUsage,
    };

    public static SlabSnapshot From(IReadOnlyDictionary<string, Dictionary<string, long>> perCache, IReadOnlyDictionary<string, long> totals)
    {
        var rows = new List<CacheRow>(perCache.Count);
        foreach ((string name, Dictionary<string, long> v) in perCache)
        {
            if (Array.TrueForAll(Required, v.ContainsKey))
                rows.Add(new CacheRow(name, v[SlabMeterNames.ObjectsTotal], v[SlabMeterNames.ObjectsActive], v[SlabMeterNames.ObjectSize],
                    v[SlabMeterNames.SlabsTotal], v[SlabMeterNames.SlabsActive], v[SlabMeterNames.SlabObjects], v[SlabMeterNames.SlabPages],
                    v[SlabMeterNames.MemoryUsage]));
        }
        return new SlabSnapshot(rows, new Dictionary<string, long>(totals, StringComparer.Ordinal));
    }
}
