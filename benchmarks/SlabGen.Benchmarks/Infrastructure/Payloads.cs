using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>A 64-byte unmanaged object for <see cref="SlabCache{T}"/>: a stamp and padding.</summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
public struct Blob64
{
    public long Stamp;
}

/// <summary>A 256-byte unmanaged object for <see cref="SlabCache{T}"/>.</summary>
[StructLayout(LayoutKind.Sequential, Size = 256)]
public struct Blob256
{
    public long Stamp;
}

/// <summary>56 bytes of inline padding (with the stamp, a 64-byte class payload).</summary>
[InlineArray(7)]
public struct Pad56
{
    public long Element;
}

/// <summary>248 bytes of inline padding (with the stamp, a 256-byte class payload).</summary>
[InlineArray(31)]
public struct Pad248
{
    public long Element;
}

/// <summary>The managed equivalent of a 64-byte object: what a user would <c>new</c> (or pool) instead.</summary>
public sealed class Obj64
{
    public long Stamp;
    public Pad56 Pad;
}

/// <summary>The managed equivalent of a 256-byte object.</summary>
public sealed class Obj256
{
    public long Stamp;
    public Pad248 Pad;
}
