using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace SlabTop;

/// <summary>The screen as procps' slabtop prints it, as plain text: <c>--once</c> writes exactly this.</summary>
internal static class SlabTopText
{
    public const string ColumnHeader = "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME";

    /// <summary>The five summary lines (slabtop's <c>print_summary</c>).</summary>
    public static IEnumerable<string> Summary(SlabSummary s)
    {
        yield return F(" {0,-35}: {1} / {2} ({3:0.0}%)", "Active / Total Objects (% used)", s.ActiveObjects, s.Objects, Percent(s.ActiveObjects, s.Objects));
        yield return F(" {0,-35}: {1} / {2} ({3:0.0}%)", "Active / Total Slabs (% used)", s.ActiveSlabs, s.Slabs, Percent(s.ActiveSlabs, s.Slabs));
        yield return F(" {0,-35}: {1} / {2} ({3:0.0}%)", "Active / Total Caches (% used)", s.ActiveCaches, s.Caches, Percent(s.ActiveCaches, s.Caches));
        yield return F(" {0,-35}: {1:0.00}K / {2:0.00}K ({3:0.0}%)", "Active / Total Size (% used)", s.ActiveBytes / 1024.0, s.Bytes / 1024.0, Percent(s.ActiveBytes, s.Bytes));
        yield return F(" {0,-35}: {1:0.00}K / {2:0.00}K / {3:0.00}K", "Minimum / Average / Maximum Object", s.MinObjectSize / 1024.0, s.AverageObjectSize / 1024.0, s.MaxObjectSize / 1024.0);
    }

    /// <summary>One cache's line: <c>"%6u %6u %3u%% %7.2fK %6u %8u %9uK %-23s"</c>.</summary>
    public static string Row(CacheRow r)
        => F("{0,6} {1,6} {2,3}% {3,7:0.00}K {4,6} {5,8} {6,9}K {7,-23}", r.Objects, r.ActiveObjects, r.Use, r.ObjectSize / 1024.0,
            r.Slabs, r.ObjectsPerSlab, r.CacheBytes / 1024, r.Name).TrimEnd();

    /// <summary>The whole screen: summary, a blank line, the column header and the rows in <paramref name="sort"/> order.</summary>
    public static string Screen(SlabSnapshot snapshot, char sort)
    {
        var text = new StringBuilder();
        foreach (string line in Summary(SlabSummary.Of(snapshot.Rows)))
            text.Append(line).Append('\n');
        text.Append('\n').Append(ColumnHeader).Append('\n');
        foreach (CacheRow row in SortKey.Sort(snapshot.Rows, sort))
            text.Append(Row(row)).Append('\n');
        return text.ToString();
    }

    public static double Percent(long part, long whole) => whole == 0 ? 0 : 100.0 * part / whole;

    private static string F(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
