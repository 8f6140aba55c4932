using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace SlabGen.Generator.Tests;

/// <summary>
/// Source with expected diagnostics marked inline: <c>{|SLAB001:Packet|}</c> expects SLAB001 on the text
/// <c>Packet</c>. The markers are removed from the source the compiler sees.
/// </summary>
internal sealed record Markup(string Source, IReadOnlyList<(string Id, TextSpan Span)> Expected)
{
    public static Markup Parse(string markup)
    {
        var source = new StringBuilder();
        var expected = new List<(string, TextSpan)>();
        int i = 0;
        while (i < markup.Length)
        {
            int open = markup.IndexOf("{|", i, System.StringComparison.Ordinal);
            if (open < 0)
            {
                source.Append(markup, i, markup.Length - i);
                break;
            }
            source.Append(markup, i, open - i);
            int colon = markup.IndexOf(':', open);
            int close = markup.IndexOf("|}", colon, System.StringComparison.Ordinal);
            string id = markup.Substring(open + 2, colon - open - 2);
            string text = markup.Substring(colon + 1, close - colon - 1);
            expected.Add((id, new TextSpan(source.Length, text.Length)));
            source.Append(text);
            i = close + 2;
        }
        return new Markup(source.ToString(), expected);
    }
}
