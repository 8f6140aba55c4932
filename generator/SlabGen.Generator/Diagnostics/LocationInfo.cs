using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace SlabGen.Generator.Diagnostics;

/// <summary>
/// Where a diagnostic points, as plain data: a <see cref="Location"/> holds its syntax tree, which would keep every
/// pipeline step that carries it from ever comparing equal to the previous run.
/// </summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location)
    {
        if (location is null || location.SourceTree is null)
            return null;
        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    public static LocationInfo? From(SyntaxNode? node) => From(node?.GetLocation());

    public static LocationInfo? From(SyntaxToken token) => From(token.GetLocation());
}
