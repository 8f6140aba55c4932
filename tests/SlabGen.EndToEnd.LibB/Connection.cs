using SlabGen;

namespace SlabGen.EndToEnd.LibB;

/// <summary>Another library's connection state, with the same default cache name as LibA's, <c>connection</c>.</summary>
[SlabCache]
public partial struct Connection
{
    public int Socket;
    public long BytesIn;
    public long BytesOut;
}
