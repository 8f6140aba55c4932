using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Reporting;

/// <summary>
/// A hand-written SVG bar chart: one group per scenario, one horizontal bar per allocator, bar length the median ns
/// per operation on a log scale (shorter is faster), labelled with the median and the ratio to NativeMemory.
/// SlabGen is orange, the NativeMemory baseline dark grey, the native peers blue, the floor purple, other peers
/// blue-grey. Memory per object closes the chart.
/// </summary>
public static class SvgChart
{
    private const int Width = 980;
    private const int LabelWidth = 290;
    private const int BarAreaWidth = 470;
    private const int BarHeight = 16;
    private const int BarGap = 4;
    private const int GroupGap = 14;
    private const int HeadingHeight = 22;

    public static string Build(RunInfo run, IReadOnlyList<ScenarioResult> scenarios, IReadOnlyList<MemoryResult>? memory)
    {
        var body = new StringBuilder();
        double y = 118;
        IEnumerable<double> all = scenarios.SelectMany(s => s.Peers).Select(p => p.MedianNs).Where(v => v > 0);
        double min = all.DefaultIfEmpty(1).Min(), max = all.DefaultIfEmpty(10).Max();
        double lo = Math.Pow(10, Math.Floor(Math.Log10(min))), hi = Math.Pow(10, Math.Ceiling(Math.Log10(max)));
        if (hi <= lo)
            hi = lo * 10;
        double X(double ns) => LabelWidth + BarAreaWidth * (Math.Log10(ns) - Math.Log10(lo)) / (Math.Log10(hi) - Math.Log10(lo));

        double y0 = y, axisTop = y;
        foreach (ScenarioResult s in scenarios)
        {
            body.AppendLine($"  <text x=\"10\" y=\"{F(y + 15)}\" class=\"h\">{Esc(s.Title)}</text>");
            y += HeadingHeight;
            foreach (PeerResult p in s.Peers)
            {
                string cls = p.IsSlabGen ? "slab" : p.IsBaseline ? "base" : Results.IsNativePeer(p.Method) ? "native" : Results.IsFloor(p.Method) ? "floor" : "peer";
                double w = Math.Max(1, X(p.MedianNs) - LabelWidth);
                body.AppendLine($"  <text x=\"{LabelWidth - 8}\" y=\"{F(y + 12)}\" class=\"l\">{Esc(p.Peer)}</text>");
                body.AppendLine($"  <rect x=\"{LabelWidth}\" y=\"{F(y)}\" width=\"{F(w)}\" height=\"{BarHeight}\" class=\"{cls}\"><title>{Esc(p.Peer)}: {p.MedianNs:F2} ns</title></rect>");
                string ratio = p.IsBaseline ? "baseline" : p.Ratio is double r ? (r < 1 ? $"{1 / r:F1}x faster" : $"{r:F1}x slower") : "";
                body.AppendLine($"  <text x=\"{F(LabelWidth + w + 6)}\" y=\"{F(y + 12)}\" class=\"v\">{FormatNs(p.MedianNs)} ns  ({ratio})</text>");
                y += BarHeight + BarGap;
            }
            y += GroupGap;
        }
        double axisBottom = y - GroupGap;

        var grid = new StringBuilder();
        if (scenarios.Count > 0)
        {
            for (double t = lo; t <= hi * 1.0001; t *= 10)
            {
                double x = X(t);
                grid.AppendLine($"  <line x1=\"{F(x)}\" y1=\"{F(axisTop - 4)}\" x2=\"{F(x)}\" y2=\"{F(axisBottom)}\" class=\"g\"/>");
                grid.AppendLine($"  <text x=\"{F(x)}\" y=\"{F(axisTop - 8)}\" class=\"t\">{FormatNs(t)} ns</text>");
                for (int k = 2; k < 10 && t * k < hi; k++)
                {
                    double xm = X(t * k);
                    grid.AppendLine($"  <line x1=\"{F(xm)}\" y1=\"{F(axisTop)}\" x2=\"{F(xm)}\" y2=\"{F(axisBottom)}\" class=\"gm\"/>");
                }
            }
        }

        if (memory is { Count: > 0 })
        {
            y += 6;
            body.AppendLine($"  <text x=\"10\" y=\"{F(y + 15)}\" class=\"h\">Memory: bytes per live 64-byte object, {MemoryFootprint.Objects:N0} live (linear scale; the payload is 64 B)</text>");
            y += HeadingHeight;
            double memMax = Math.Max(memory.Max(m => m.BytesPerObject), 64) * 1.05;
            double payloadX = LabelWidth + BarAreaWidth * 64 / memMax;
            double top = y;
            foreach (MemoryResult m in memory)
            {
                string cls = m.Allocator.StartsWith("SlabGen", StringComparison.Ordinal) ? "slab"
                    : m.Allocator.StartsWith("NativeMemory", StringComparison.Ordinal) ? "base"
                    : NativePeers.BestOf.Any(n => m.Allocator.StartsWith(n, StringComparison.OrdinalIgnoreCase)) ? "native" : "peer";
                double w = Math.Max(1, BarAreaWidth * m.BytesPerObject / memMax);
                body.AppendLine($"  <text x=\"{LabelWidth - 8}\" y=\"{F(y + 12)}\" class=\"l\">{Esc(m.Label)}</text>");
                body.AppendLine($"  <rect x=\"{LabelWidth}\" y=\"{F(y)}\" width=\"{F(w)}\" height=\"{BarHeight}\" class=\"{cls}\"/>");
                body.AppendLine($"  <text x=\"{F(LabelWidth + w + 6)}\" y=\"{F(y + 12)}\" class=\"v\">{m.BytesPerObject:F1} B ({m.OfPayload:F2}x payload)</text>");
                y += BarHeight + BarGap;
            }
            body.AppendLine($"  <line x1=\"{F(payloadX)}\" y1=\"{F(top - 4)}\" x2=\"{F(payloadX)}\" y2=\"{F(y)}\" class=\"p\"/>");
            y += GroupGap;
        }

        y += 30;
        var svg = new StringBuilder();
        svg.AppendLine($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{F(y)}\" viewBox=\"0 0 {Width} {F(y)}\" font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\">");
        svg.AppendLine("  <style>");
        svg.AppendLine("    .h { font-size: 13px; font-weight: bold; fill: #222; }");
        svg.AppendLine("    .l { font-size: 11px; fill: #333; text-anchor: end; }");
        svg.AppendLine("    .v { font-size: 11px; fill: #333; }");
        svg.AppendLine("    .t { font-size: 10px; fill: #666; text-anchor: middle; }");
        svg.AppendLine("    .s { font-size: 11px; fill: #555; }");
        svg.AppendLine("    .slab { fill: #e8590c; }");
        svg.AppendLine("    .base { fill: #495057; }");
        svg.AppendLine("    .peer { fill: #91a7bf; }");
        svg.AppendLine("    .native { fill: #1c7ed6; }");
        svg.AppendLine("    .floor { fill: #7048e8; }");
        svg.AppendLine("    .g { stroke: #bbb; stroke-width: 1; }");
        svg.AppendLine("    .gm { stroke: #eee; stroke-width: 1; }");
        svg.AppendLine("    .p { stroke: #2b8a3e; stroke-width: 1.5; stroke-dasharray: 4 3; }");
        svg.AppendLine("  </style>");
        svg.AppendLine($"  <rect width=\"{Width}\" height=\"{F(y)}\" fill=\"white\"/>");
        svg.AppendLine($"  <text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\" fill=\"#111\">SlabGen vs what a .NET user would pick instead</text>");
        svg.AppendLine($"  <text x=\"10\" y=\"40\" class=\"s\">Median ns per operation, log scale: shorter is faster. Ratios are to NativeMemory.Alloc/Free in the same run.</text>");
        svg.AppendLine($"  <text x=\"10\" y=\"55\" class=\"s\">{Esc(run.Machine)}; {Esc(run.Runtime)}</text>");
        svg.AppendLine($"  <text x=\"10\" y=\"70\" class=\"s\">{Esc(run.Job)}</text>");
        svg.AppendLine($"  <rect x=\"{LabelWidth}\" y=\"{F(y0 - 36)}\" width=\"12\" height=\"10\" class=\"slab\"/><text x=\"{LabelWidth + 16}\" y=\"{F(y0 - 27)}\" class=\"s\">SlabGen</text>");
        svg.AppendLine($"  <rect x=\"{LabelWidth + 80}\" y=\"{F(y0 - 36)}\" width=\"12\" height=\"10\" class=\"base\"/><text x=\"{LabelWidth + 96}\" y=\"{F(y0 - 27)}\" class=\"s\">NativeMemory.Alloc/Free (baseline)</text>");
        svg.AppendLine($"  <rect x=\"{LabelWidth + 300}\" y=\"{F(y0 - 36)}\" width=\"12\" height=\"10\" class=\"native\"/><text x=\"{LabelWidth + 316}\" y=\"{F(y0 - 27)}\" class=\"s\">native peers</text>");
        svg.AppendLine($"  <rect x=\"{LabelWidth + 410}\" y=\"{F(y0 - 36)}\" width=\"12\" height=\"10\" class=\"floor\"/><text x=\"{LabelWidth + 426}\" y=\"{F(y0 - 27)}\" class=\"s\">floor</text>");
        svg.AppendLine($"  <rect x=\"{LabelWidth + 470}\" y=\"{F(y0 - 36)}\" width=\"12\" height=\"10\" class=\"peer\"/><text x=\"{LabelWidth + 486}\" y=\"{F(y0 - 27)}\" class=\"s\">other peers</text>");
        svg.Append(grid);
        svg.Append(body);
        svg.AppendLine($"  <text x=\"10\" y=\"{F(y - 10)}\" class=\"s\">{Esc(run.Command)}</text>");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static string FormatNs(double ns) => ns switch
    {
        < 1 => ns.ToString("0.##", CultureInfo.InvariantCulture),
        < 10 => ns.ToString("0.0#", CultureInfo.InvariantCulture),
        < 100 => ns.ToString("0.0", CultureInfo.InvariantCulture),
        _ => ns.ToString("N0", CultureInfo.InvariantCulture),
    };

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Esc(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
