using SlabGen;

namespace Quickstart;

/// <summary>
/// A network packet. Its ctor runs once per object when a slab is populated (not on every Alloc), and each object
/// starts on its own 64-byte cache line. 1,504 bytes round up to the kmalloc-2k size class.
/// </summary>
[SlabCache(Name = "packet_cache", Ctor = nameof(Init), Flags = SlabFlags.HwCacheAlign)]
public unsafe partial struct Packet
{
    public const int Mtu = 1500;

    public int Length;
    public fixed byte Data[Mtu];

    // Objects go back to the cache in this state: whoever frees a packet resets Length first.
    private static void Init(ref Packet p) => p.Length = 0;
}

/// <summary>A trading order; its cache is named after the type ("order"), with tunables from enable_cpucache.</summary>
[SlabCache]
public partial record struct Order(long Id, double Price, int Quantity, int Side);

/// <summary>A small event that shares the kmalloc-16 cache instead of having its own (SlabFlags.Merge).</summary>
[SlabCache(Name = "tick", Flags = SlabFlags.Merge)]
public partial struct Tick
{
    public long Time;
    public float Price;
}
