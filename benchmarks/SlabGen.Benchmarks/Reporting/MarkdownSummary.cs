using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Reporting;

/// <summary>The run as markdown: machine, command, medians and ratios per scenario, memory, and the issue's targets.</summary>
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
        sb.AppendLine();
        if (scenarios.Count > 0)
        {
            sb.AppendLine("## Time per operation (median of the iterations)");
            sb.AppendLine();
            sb.AppendLine("One operation is one alloc+free pair (per object for batches and producer/consumer; per pair over both");
            sb.AppendLine("threads for the two-thread scenarios). Ratio = median / the NativeMemory.Alloc/Free median of the same");
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
            sb.AppendLine("## Targets (issue 5)");
            sb.AppendLine();
            sb.AppendLine("| Target | Measured | Met |");
            sb.AppendLine("|---|---|---|");
            foreach (TargetCheck t in targets)
                sb.AppendLine($"| {Escape(t.Target)} | {t.Measured} | {(t.Met switch { true => "yes", false => "**no**", null => "-" })} |");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static string Ns(double ns) => ns switch
    {
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
    string? LoadBefore = null, string? LoadAfter = null);
