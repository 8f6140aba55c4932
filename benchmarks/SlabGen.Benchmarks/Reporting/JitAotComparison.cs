using System.Globalization;
using System.Linq;
using System.Text;

namespace SlabGen.Benchmarks.Reporting;

/// <summary>
/// Two saved runs side by side, scenario by scenario and peer by peer: the JIT run and the Native AOT run
/// (jit-vs-aot.md). Both runs' own ratios stay in their own summaries; this table puts their medians next to each other.
/// </summary>
public static class JitAotComparison
{
    public static string Build(SavedRun jit, SavedRun aot)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# SlabGen benchmarks: JIT and Native AOT");
        sb.AppendLine();
        sb.AppendLine($"- JIT run: {jit.Run.Started:yyyy-MM-dd HH:mm} UTC, {jit.Run.Runtime}, `{jit.Run.Command}`, load before {jit.Run.LoadBefore ?? "-"}");
        sb.AppendLine($"- AOT run: {aot.Run.Started:yyyy-MM-dd HH:mm} UTC, {aot.Run.Runtime}, `{aot.Run.Command}`, load before {aot.Run.LoadBefore ?? "-"}");
        sb.AppendLine("- The two are separate runs: compare them only when both ran on the same quiet machine.");
        sb.AppendLine();
        sb.AppendLine("Median ns per operation. AOT / JIT below 1: the Native AOT build is faster.");
        sb.AppendLine();
        sb.AppendLine("| Scenario | Allocator | JIT ns | AOT ns | AOT / JIT |");
        sb.AppendLine("|---|---|---:|---:|---:|");
        foreach (ScenarioResult a in aot.Scenarios)
        {
            ScenarioResult? j = jit.Scenarios.FirstOrDefault(s => s.Key == a.Key);
            bool first = true;
            foreach (PeerResult pa in a.Peers)
            {
                PeerResult? pj = j?.Find(pa.Method);
                string peer = pa.IsSlabGen ? $"**{pa.Peer}**" : pa.Peer;
                string jitNs = pj != null ? Ns(pj.MedianNs) : "-";
                string ratio = pj != null ? (pa.MedianNs / pj.MedianNs).ToString("F2", CultureInfo.InvariantCulture) : "-";
                sb.AppendLine($"| {(first ? Escape(a.Title) : "")} | {Escape(peer)} | {jitNs} | {Ns(pa.MedianNs)} | {ratio} |");
                first = false;
            }
        }
        sb.AppendLine();
        return sb.ToString();
    }

    private static string Ns(double ns) => ns < 10
        ? ns.ToString("F2", CultureInfo.InvariantCulture)
        : ns < 100 ? ns.ToString("F1", CultureInfo.InvariantCulture) : ns.ToString("N0", CultureInfo.InvariantCulture);

    private static string Escape(string s) => s.Replace("|", "\\|").Replace("<", "&lt;").Replace(">", "&gt;");
}
