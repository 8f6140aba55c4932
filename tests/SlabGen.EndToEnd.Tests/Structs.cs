using System.Runtime.InteropServices;
using SlabGen;

namespace SlabGen.EndToEnd.Tests;

/// <summary>The README's packet: a ctor, cache-line alignment and a 1500-byte payload.</summary>
[SlabCache(Name = "e2e_packet", Ctor = nameof(Init), Flags = SlabFlags.HwCacheAlign)]
public unsafe partial struct Packet
{
    public const int Constructed = -1;

    public int Length;
    public long Owner;
    public fixed byte Data[1500];

    private static void Init(ref Packet p)
    {
        p.Length = Constructed;
        p.Owner = 0;
    }
}

/// <summary>A positional record struct with the default (snake_case) name.</summary>
[SlabCache]
public partial record struct E2eMessage(long Id, int Kind, double Value);

/// <summary>Nested in a partial class, internal, with a pointer field and explicit tunables.</summary>
public static partial class Graph
{
    [SlabCache(Name = "e2e_node", Limit = 32, BatchCount = 8, SharedFactor = 2)]
    internal unsafe partial struct Node
    {
        public Node* Next;
        public long Value;
    }
}

/// <summary>Shares the kmalloc-16 cache.</summary>
[SlabCache(Name = "e2e_small", Flags = SlabFlags.Merge)]
public partial struct Small
{
    public int A;
    public short B;
    public byte C;
}

/// <summary>Layouts the generator computes by itself, checked against the runtime below.</summary>
[SlabCache(Name = "e2e_explicit")]
[StructLayout(LayoutKind.Explicit)]
public partial struct ExplicitUnion
{
    [FieldOffset(0)] public int A;
    [FieldOffset(4)] public long B;
    [FieldOffset(0)] public byte C;
}

[SlabCache(Name = "e2e_packed")]
[StructLayout(LayoutKind.Sequential, Pack = 2)]
public partial struct Packed
{
    public byte A;
    public long B;
    public System.Guid C;
    public decimal D;
}

[SlabCache(Name = "e2e_wide")]
public partial struct Wide
{
    public byte A;
    public System.Int128 B;
    public System.Runtime.Intrinsics.Vector256<float> C;
    public System.DateTimeOffset D;
    public long? E;
}
