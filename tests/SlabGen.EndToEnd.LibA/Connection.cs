using SlabGen;

namespace SlabGen.EndToEnd.LibA;

/// <summary>A library's connection state; its cache's default name, <c>connection</c>, is LibB's too.</summary>
[SlabCache]
public partial struct Connection
{
    public long Id;
    public int State;
}
