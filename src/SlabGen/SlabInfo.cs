using System;
using System.Globalization;
using System.IO;
using SlabGen.Core;

namespace SlabGen;

/// <summary><c>/proc/slabinfo</c>: read every live cache's row, or re-tune a cache by writing a line.</summary>
public static class SlabInfo
{
    /// <summary>The two header lines, exactly as <c>print_slabinfo_header</c> prints them.</summary>
    public const string Header =
        "slabinfo - version: 2.1\n" +
        "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n";

    /// <summary>
    /// The header of the statistics variant, as <c>print_slabinfo_header</c> prints it under <c>CONFIG_DEBUG_SLAB</c>:
    /// the 2.1 columns, then <c>globalstat</c> and <c>cpustat</c>.
    /// </summary>
    public const string StatisticsHeader =
        "slabinfo - version: 2.1 (statistics)\n" +
        "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail> : globalstat <listallocs> <maxobjs> <grown> <reaped> <error> <maxfreeable> <nodeallocs> <remotefrees> <alienoverflow> : cpustat <allochit> <allocmiss> <freehit> <freemiss>\n";

    /// <summary>
    /// Writes the header and one row per live cache, in creation order (<c>slab_show</c>). The rows are read under the
    /// chain mutex and written after it is released, so a slow or re-entrant writer never holds up the allocator. With
    /// <paramref name="statistics"/>, the statistics variant (<c>slabinfo - version: 2.1 (statistics)</c>, what a kernel
    /// built with <c>CONFIG_DEBUG_SLAB</c> prints): each row goes on with <c>: globalstat</c> and <c>: cpustat</c>
    /// columns read from the cache's counters; docs/debugging.md says which of them are approximations.
    /// </summary>
    public static void Write(TextWriter writer, bool statistics = false)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CacheChain.EnsureUp();
        string[] rows;
        using (CacheChain.Enter())
        {
            rows = new string[CacheChain.Caches.Count];
            for (int i = 0; i < rows.Length; i++)
            {
                SlabCache cache = CacheChain.Caches[i];
                rows[i] = cache.GetSlabInfo().ToString();
                if (statistics)
                    rows[i] += StatisticsColumns(cache);
            }
        }
        writer.Write((statistics ? StatisticsHeader : Header).Replace("\n", writer.NewLine, StringComparison.Ordinal));
        foreach (string row in rows)
            writer.WriteLine(row);
    }

    /// <summary><c>slabinfo_show_stats</c>: the <c>globalstat</c> and <c>cpustat</c> columns of one cache. Caller holds the chain mutex.</summary>
    private static string StatisticsColumns(SlabCache cache)
    {
        SlabStatistics st = cache.GetStatistics();
        SlabCache.GlobalStat g = cache.GetGlobalStat(st);
        return string.Create(CultureInfo.InvariantCulture,
            $" : globalstat {g.ListAllocs,7} {g.MaxObjs,6} {g.Grown,5} {g.Reaped,4} {g.Errors,4} {g.MaxFreeable,4} {g.NodeAllocs,4} {g.RemoteFrees,4} {g.AlienOverflow,4} : cpustat {st.AllocHit,6} {st.AllocMiss,6} {st.FreeHit,6} {st.FreeMiss,6}");
    }

    /// <summary>The whole table as a string; the statistics variant with <paramref name="statistics"/>.</summary>
    public static string Read(bool statistics = false)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(writer, statistics);
        return writer.ToString();
    }

    /// <summary>
    /// Re-tunes a cache the way writing <c>"name limit batchcount shared"</c> to <c>/proc/slabinfo</c> does
    /// (<c>slabinfo_write</c>). Unlike the kernel, which ignores bad values silently, this throws.
    /// </summary>
    /// <exception cref="FormatException">The line is not a name and three integers.</exception>
    /// <exception cref="ArgumentException">No cache has that name, or the values are out of range.</exception>
    public static void Apply(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        string[] parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 4
            || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int limit)
            || !int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out int batchCount)
            || !int.TryParse(parts[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out int shared))
            throw new FormatException($"slabinfo: expected \"<name> <limit> <batchcount> <shared>\", got \"{line}\".");
        CacheChain.EnsureUp();
        SlabCache? cache;
        using (CacheChain.Enter())
            cache = CacheChain.Find(parts[0]);
        if (cache == null)
            throw new ArgumentException($"slabinfo: no slab cache named '{parts[0]}'.", nameof(line));
        cache.Tune(limit, batchCount, shared);
    }
}
