using System;
using System.Collections.Generic;
using System.Text;

namespace SlabGen.Core;

/// <summary>
/// One report in the making, in the kernel's form: <c>slab_bug</c>'s banner, <c>INFO:</c> lines, <c>print_section</c>'s
/// hex dumps, and <c>slab_fix</c>'s <c>FIX</c> lines. Built wherever the damage is found (under a lock is fine: it only
/// formats text), then <see cref="Queue"/>d on the finding thread; <see cref="SlabErrors.Flush"/> emits it once that
/// thread holds no allocator lock.
/// </summary>
internal sealed class SlabReport
{
    private readonly SlabCache? _cache;
    private readonly string _cacheName;
    private readonly StringBuilder _body = new();
    private readonly List<string> _fixes = new(1);
    private int _extraErrors;

    public SlabReport(SlabCache cache, SlabErrorKind kind, string summary)
        : this(cache.Name, kind, summary) => _cache = cache;

    public SlabReport(string cacheName, SlabErrorKind kind, string summary)
    {
        _cacheName = cacheName;
        Kind = kind;
        Summary = summary;
    }

    public SlabErrorKind Kind { get; }

    public string Summary { get; }

    /// <summary>The slab concerned (its first byte), 0 when none.</summary>
    public nuint Slab { get; set; }

    /// <summary>The object concerned, 0 when none.</summary>
    public nuint Object { get; set; }

    /// <summary>The lines added so far (for a trace line, which is written without the banner).</summary>
    public string Body => _body.ToString();

    /// <summary>An <c>INFO:</c> line.</summary>
    public SlabReport Info(string line)
    {
        _body.Append("INFO: ").Append(line).Append('\n');
        return this;
    }

    /// <summary>A line as it is (a stack frame, a hex dump line, a blank line).</summary>
    public SlabReport Raw(string line)
    {
        _body.Append(line).Append('\n');
        return this;
    }

    /// <summary>A <c>FIX &lt;cache&gt;:</c> line (<c>slab_fix</c>): what was done about it.</summary>
    public SlabReport Fix(string what)
    {
        _fixes.Add(what);
        return this;
    }

    /// <summary>
    /// Errors the kernel's kunit count (<c>slab_add_kunit_errors</c>) adds beyond this report's <c>BUG</c> and <c>FIX</c>
    /// lines: <c>list_slab_objects</c> counts each object it lists.
    /// </summary>
    public SlabReport CountExtra(int errors)
    {
        _extraErrors += errors;
        return this;
    }

    /// <summary>
    /// <c>print_section</c>: <paramref name="length"/> bytes at <paramref name="address"/> as <c>print_hex_dump</c> prints them,
    /// 16 a line: <c>&lt;text&gt;&lt;address&gt;: bb bb ...  ........</c>.
    /// </summary>
    public unsafe SlabReport Section(string text, byte* address, int length)
    {
        var line = new StringBuilder(text.Length + 16 + 2 + 16 * 3 + 2 + 16);
        for (int row = 0; row < length; row += 16)
        {
            int n = Math.Min(16, length - row);
            line.Clear().Append(text).Append(((nuint)(address + row)).ToString("x16")).Append(": ");
            for (int i = 0; i < 16; i++)
            {
                if (i < n)
                    line.Append(address[row + i].ToString("x2"));
                else
                    line.Append("  ");
                if (i < 15)
                    line.Append(' ');
            }
            line.Append("  ");
            for (int i = 0; i < n; i++)
            {
                byte b = address[row + i];
                line.Append(b >= 0x20 && b < 0x7f ? (char)b : '.');
            }
            Raw(line.ToString());
        }
        return this;
    }

    /// <summary>Counts the report for its cache and hands it to <see cref="SlabErrors"/>, to be emitted once the thread holds no lock.</summary>
    public void Queue()
    {
        _cache?.CountError();
        var text = new StringBuilder(_body.Length + 256);
        text.Append("=============================================================================\n");
        text.Append("BUG ").Append(_cacheName).Append(" (Not tainted): ").Append(Summary).Append('\n');
        text.Append("-----------------------------------------------------------------------------\n\n");
        text.Append(_body);
        foreach (string fix in _fixes)
            text.Append("FIX ").Append(_cacheName).Append(": ").Append(fix).Append('\n');
        SlabErrors.Queue(new SlabError(_cacheName, Kind, Slab, Object, Summary, text.ToString(), 1 + _fixes.Count + _extraErrors));
    }
}
