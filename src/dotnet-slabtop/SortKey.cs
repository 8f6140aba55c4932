using System;
using System.Collections.Generic;

namespace SlabTop;

/// <summary>slabtop's sort criteria (<c>-s</c>): one letter each, as in procps' slabtop.</summary>
internal static class SortKey
{
    /// <summary>The letters and what each sorts by, in slabtop's order.</summary>
    public static readonly IReadOnlyList<(char Key, string Description)> All = new[]
    {
        ('a', "number of active objects"),
        ('b', "objects per slab"),
        ('c', "cache size"),
        ('l', "number of slabs"),
        ('v', "(non display) number of active slabs"),
        ('n', "name"),
        ('o', "number of objects (the default)"),
        ('p', "(non display) pages per slab"),
        ('s', "object size"),
        ('u', "cache utilization"),
    };

    public const char Default = 'o';

    public static bool IsValid(char key)
    {
        foreach ((char k, _) in All)
            if (k == key)
                return true;
        return false;
    }

    /// <summary>The rows in slabtop's order for <paramref name="key"/>: largest first, names A to Z; ties by name.</summary>
    public static List<CacheRow> Sort(IEnumerable<CacheRow> rows, char key)
    {
        var sorted = new List<CacheRow>(rows);
        Comparison<CacheRow> byName = static (x, y) => string.CompareOrdinal(x.Name, y.Name);
        Comparison<CacheRow> compare = key switch
        {
            'a' => Descending(static r => r.ActiveObjects),
            'b' => Descending(static r => r.ObjectsPerSlab),
            'c' => Descending(static r => r.CacheBytes),
            'l' => Descending(static r => r.Slabs),
            'v' => Descending(static r => r.ActiveSlabs),
            'n' => byName,
            'o' => Descending(static r => r.Objects),
            'p' => Descending(static r => r.PagesPerSlab),
            's' => Descending(static r => r.ObjectSize),
            'u' => (x, y) => y.Use.CompareTo(x.Use),
            _ => throw new ArgumentException($"dotnet-slabtop: '{key}' is not a sort criterion; one of: a b c l v n o p s u.", nameof(key)),
        };
        sorted.Sort((x, y) =>
        {
            int c = compare(x, y);
            return c != 0 ? c : byName(x, y);
        });
        return sorted;
    }

    private static Comparison<CacheRow> Descending(Func<CacheRow, long> value) => (x, y) => value(y).CompareTo(value(x));
}
