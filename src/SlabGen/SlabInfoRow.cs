using System.Globalization;

namespace SlabGen;

/// <summary>One cache's row of <c>/proc/slabinfo</c> version 2.1 (<c>struct slabinfo</c> + the cache's fields).</summary>
public readonly record struct SlabInfoRow(
    string Name,
    long ActiveObjs,
    long NumObjs,
    int ObjSize,
    int ObjPerSlab,
    int PagesPerSlab,
    int Limit,
    int BatchCount,
    int SharedFactor,
    long ActiveSlabs,
    long NumSlabs,
    long SharedAvail)
{
    /// <summary>The row exactly as the kernel prints it (<c>cache_show</c>).</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name,-17} {ActiveObjs,6} {NumObjs,6} {ObjSize,6} {ObjPerSlab,4} {PagesPerSlab,4} : tunables {Limit,4} {BatchCount,4} {SharedFactor,4} : slabdata {ActiveSlabs,6} {NumSlabs,6} {SharedAvail,6}");
}
