using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Reporting;

/// <summary>The run as markdown: machine, command, medians and ratios per scenario, memory, and the performance goals.</summary>
public static class MarkdownSummary
{
    public static string Build(RunInfo run, IReadOnlyList<ScenarioResult> scenarios, IReadOnlyList<MemoryResult>? memory,
        IReadOnlyList<TargetCheck> targets)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# SlabGen benchmarks");
        sb.AppendLine();
        sb.AppendLine($"- Machine: {run.Machine}");
        sb.AppendLine($"- Runtime: {run.Runtime}");
        sb.AppendLine($"- Command: `{run.Command}`");
        sb.AppendLine($"- Job: {run.Job}");
        sb.AppendLine($"- Run: {run.Started:yyyy-MM-dd HH:mm} UTC, {run.WallTime.TotalSeconds:F0} s wall time");
        if (run.LoadBefore != null)
            sb.AppendLine($"- Load average (1, 5, 15 min) before / after: {run.LoadBefore} / {run.LoadAfter}: other processes on the machine share its cores, and inflate absolute numbers");
        if (run.NativePeers is { Count: > 0 })
            sb.AppendLine($"- Native peers (function pointers, no GC transition): {string.Join("; ", run.NativePeers)}");
        if (run.SkippedPeers is { Count: > 0 })
            sb.AppendLine($"- Skipped peers: {string.Join("; ", run.SkippedPeers)}");
        sb.AppendLine();
        if (scenarios.Count > 0)
        {
            sb.AppendLine("## Time per operation (median of the iterations)");
            sb.AppendLine();
            sb.AppendLine("One operation is one alloc+free pair (per object for batches and producer/consumer; per pair over both");
            sb.AppendLine("threads for the two-thread and Larson scenarios). Ratio = median / the NativeMemory.Alloc/Free median of the same");
            sb.AppendLine("scenario in the same run; below 1 is faster. SlabGen rows are in bold.");
            sb.AppendLine();
            sb.AppendLine("| Scenario | Allocator | Median ns/op | Ratio vs NativeMemory |");
            sb.AppendLine("|---|---|---:|---:|");
            foreach (ScenarioResult s in scenarios)
            {
                bool first = true;
                foreach (PeerResult p in s.Peers)
                {
                    string peer = p.IsSlabGen ? $"**{p.Peer}**" : p.Peer;
                    sb.AppendLine($"| {(first ? s.Title : "")} | {Escape(peer)} | {Ns(p.MedianNs)} | {Ratio(p)} |");
                    first = false;
                }
            }
            sb.AppendLine();
        }
        BestNative(sb, scenarios);
        Floor(sb, scenarios);
        if (memory is { Count: > 0 })
        {
            sb.AppendLine($"## Memory: {MemoryFootprint.Objects:N0} live {MemoryFootprint.ObjectSize}-byte objects");
            sb.AppendLine();
            sb.AppendLine("| Allocator | Counted by | Bytes | Bytes per object | x payload |");
            sb.AppendLine("|---|---|---:|---:|---:|");
            foreach (MemoryResult m in memory)
                sb.AppendLine($"| {Escape(m.Allocator)} | {m.Source} | {m.Bytes:N0} | {m.BytesPerObject:F1} | {m.OfPayload:F3} |");
            sb.AppendLine();
        }
        if (targets.Count > 0)
        {
            sb.AppendLine("## Goals");
            sb.AppendLine();
            sb.AppendLine("| Goal | Measured | Met |");
            sb.AppendLine("|---|---|---|");
            foreach (TargetCheck t in targets)
                sb.AppendLine($"| {Escape(t.Target)} | {t.Measured} | {(t.Met switch { true => "yes", false => "**no**", null => "-" })} |");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>Per scenario, each SlabGen row against the fastest of mimalloc, jemalloc and tcmalloc in the same run.</summary>
    private static void BestNative(StringBuilder sb, IReadOnlyList<ScenarioResult> scenarios)
    {
        var rows = new List<string>();
        foreach (ScenarioResult s in scenarios)
        {
            PeerResult? best = s.Peers
                .Where(p => NativePeers.BestOf.Any(b => p.Method.StartsWith(b, StringComparison.Ordinal)))
                .OrderBy(p => p.MedianNs)
                .FirstOrDefault();
            if (best == null)
                continue;
            bool first = true;
            foreach (PeerResult slab in s.Peers.Where(p => p.IsSlabGen))
            {
                double r = best.MedianNs / slab.MedianNs;
                string how = r >= 1 ? $"{r:F2} (SlabGen {r:F1}x faster)" : $"{r:F2} (SlabGen {1 / r:F1}x slower)";
                rows.Add($"| {(first ? Escape(s.Title) : "")} | {Escape(slab.Peer)} | {Ns(slab.MedianNs)} | {Escape(best.Peer)} | {Ns(best.MedianNs)} | {how} |");
                first = false;
            }
        }
        if (rows.Count == 0)
            return;
        sb.AppendLine("## SlabGen vs the best native peer");
        sb.AppendLine();
        sb.AppendLine("The fastest of mimalloc, jemalloc and tcmalloc in each scenario of this run (median ns per operation).");
        sb.AppendLine("Ratio = best native peer / SlabGen: above 1 means SlabGen is faster.");
        sb.AppendLine();
        sb.AppendLine("| Scenario | SlabGen | SlabGen ns | Best native peer | Its ns | Ratio |");
        sb.AppendLine("|---|---|---:|---|---:|---:|");
        foreach (string row in rows)
            sb.AppendLine(row);
        sb.AppendLine();
    }

    /// <summary>Per scenario with a floor (hot pair, split pair), each SlabGen row against the floor of the same run.</summary>
    private static void Floor(StringBuilder sb, IReadOnlyList<ScenarioResult> scenarios)
    {
        var rows = new List<string>();
        foreach (ScenarioResult s in scenarios)
        {
            PeerResult? floor = s.Peers.FirstOrDefault(p => Results.IsFloor(p.Method));
            if (floor == null)
                continue;
            bool first = true;
            foreach (PeerResult slab in s.Peers.Where(p => p.IsSlabGen || Results.IsUnchecked(p.Method)))
            {
                rows.Add($"| {(first ? Escape(s.Title) : "")} | {Escape(slab.Peer)} | {Ns(slab.MedianNs)} | {Ns(floor.MedianNs)} | "
                    + $"{slab.MedianNs / floor.MedianNs:F2}x | {Ns(slab.MedianNs - floor.MedianNs)} |");
                first = false;
            }
        }
        if (rows.Count == 0)
            return;
        sb.AppendLine("## Hot pair vs the floor");
        sb.AppendLine();
        sb.AppendLine("The floor is a thread-local intrusive free list over a pre-allocated arena, in the same loop (hot pair: the");
        sb.AppendLine("head read once per invocation; split pair: read and written in each of the two methods). x floor = SlabGen's");
        sb.AppendLine("median / the floor's median; the last column is what SlabGen adds per pair. The row without its checks is");
        sb.AppendLine("not an API: the same magazine with the checks against caller errors skipped, to show what they cost.");
        sb.AppendLine();
        sb.AppendLine("| Scenario | SlabGen | SlabGen ns | Floor ns | x floor | SlabGen - floor, ns |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (string row in rows)
            sb.AppendLine(row);
        sb.AppendLine();
    }

    private static string Ns(double ns) => ns switch
    {
        < 0 => "-" + Ns(-ns),
        < 10 => ns.ToString("F2", CultureInfo.InvariantCulture),
        < 100 => ns.ToString("F1", CultureInfo.InvariantCulture),
        _ => ns.ToString("N0", CultureInfo.InvariantCulture),
    };

    private static string Ratio(PeerResult p)
    {
        if (p.IsBaseline)
            return "1.00 (baseline)";
        if (p.Ratio is not double r)
            return "-";
        string how = r < 1 ? $"{1 / r:F1}x faster" : $"{r:F1}x slower";
        return $"{r:F2} ({how})";
    }

    private static string Escape(string s) => s.Replace("|", "\\|").Replace("<", "&lt;").Replace(">", "&gt;");
}

/// <summary>What the summary says about the run itself.</summary>
public sealed record RunInfo(string Machine, string Runtime, string Command, string Job, DateTime Started, TimeSpan WallTime,
    string? LoadBefore = null, string? LoadAfter = null, List<string>? NativePeers = null, List<string>? SkippedPeers = null);
