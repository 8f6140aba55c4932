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
    /// Writes the header and one row per live cache, in creation order (<c>slab_show</c>). The rows are read under the
    /// chain mutex and written after it is released, so a slow or re-entrant writer never holds up the allocator.
    /// </summary>
    public static void Write(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        CacheChain.EnsureUp();
        SlabInfoRow[] rows;
        using (CacheChain.Enter())
        {
            rows = new SlabInfoRow[CacheChain.Caches.Count];
            for (int i = 0; i < rows.Length; i++)
                rows[i] = CacheChain.Caches[i].GetSlabInfo();
        }
        writer.Write(Header.Replace("\n", writer.NewLine, StringComparison.Ordinal));
        foreach (SlabInfoRow row in rows)
            writer.WriteLine(row.ToString());
    }

    /// <summary>The whole table as a string.</summary>
    public static string Read()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(writer);
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
