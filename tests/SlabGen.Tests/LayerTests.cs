using System;
using System.Linq;
using System.Runtime.InteropServices;
using SlabGen.Core;
using SlabGen.Policy;
using Xunit;

namespace SlabGen.Tests;

public unsafe class LayerTests
{
    [Theory]
    [InlineData(8, 120, 60)]
    [InlineData(256, 120, 60)]
    [InlineData(257, 54, 27)]
    [InlineData(1024, 54, 27)]
    [InlineData(1025, 24, 12)]
    [InlineData(4096, 24, 12)]
    [InlineData(4097, 8, 4)]
    [InlineData(131072, 8, 4)]
    [InlineData(131073, 1, 1)]
    public void Enable_cpucache_table(int size, int limit, int batch)
    {
        Tunables t = Tunables.ForSize(size, cpus: 2);
        Assert.Equal(limit, t.Limit);
        Assert.Equal(batch, t.BatchCount);
        Assert.Equal(size <= 4096 ? 8 : 0, t.SharedFactor);
        Assert.Equal(0, Tunables.ForSize(size, cpus: 1).SharedFactor);
    }

    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(4097, 1, 0)]
    [InlineData(10, 0, 0)]
    [InlineData(10, 11, 0)]
    [InlineData(10, 5, -1)]
    [InlineData(10, 5, 65)]
    public void Bad_tunables_are_named(int limit, int batch, int shared)
    {
        var e = Assert.Throws<ArgumentException>(() => new Tunables(limit, batch, shared).Validate("some_cache"));
        Assert.Contains("some_cache", e.Message);
    }

    [Theory]
    [InlineData(1, 8, 0, 512)]
    [InlineData(64, 64, 0, 64)]
    [InlineData(96, 96, 0, 42)]
    [InlineData(192, 192, 0, 21)]
    [InlineData(1500, 1504, 3, 21)]
    [InlineData(8192, 8192, 3, 4)]
    [InlineData(100000, 100000, 5, 1)]
    public void Layout_picks_the_smallest_order_with_little_waste(int objectSize, int size, int order, int num)
    {
        var l = SlabLayout.Calculate("t", objectSize, 0, SlabFlags.None, hasCtor: false, cpus: 2);
        Assert.Equal(size, l.Size);
        Assert.Equal(order, l.Order);
        Assert.Equal(num, l.ObjectsPerSlab);
        Assert.True(l.Offset + 8 <= l.Size);
        Assert.True((l.SlabBytes - num * size) * 8 <= l.SlabBytes || order >= SlabLayout.SlabMaxOrder);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(72)]
    [InlineData(96)]
    [InlineData(1504)]
    [InlineData(2056)]
    [InlineData(100000)]
    public void The_slot_test_agrees_with_division_at_every_offset_of_a_slab(int objectSize)
    {
        var l = SlabLayout.Calculate("t", objectSize, 0, SlabFlags.None, hasCtor: objectSize == 72 || objectSize == 2056, cpus: 2);
        int[] counts = [0, 1, l.ObjectsPerSlab / 2, l.ObjectsPerSlab];
        for (nuint off = 0; off < (nuint)l.SlabBytes + 2 * (nuint)l.Size; off += off < 4096 ? 1u : 7u)
            foreach (int count in counts)
                Assert.True((off % (nuint)l.Size == 0 && off / (nuint)l.Size < (nuint)count) == l.IsSlotBelow(off, count),
                    $"size {l.Size}, offset {off}, count {count}");
        // Pointers below a slab's first slot arrive as offsets that wrapped round.
        Assert.False(l.IsSlotBelow(unchecked((nuint)(-(nint)l.Size)), l.ObjectsPerSlab));
        Assert.False(l.IsSlotBelow(nuint.MaxValue, l.ObjectsPerSlab));
    }

    [Fact]
    public void Ctor_moves_the_free_pointer_after_the_object_and_hwcache_aligns_to_a_line()
    {
        var withCtor = SlabLayout.Calculate("t", 64, 0, SlabFlags.None, hasCtor: true, cpus: 2);
        Assert.Equal(64, withCtor.Offset);
        Assert.Equal(72, withCtor.Size);
        var aligned = SlabLayout.Calculate("t", 20, 0, SlabFlags.HwCacheAlign, hasCtor: false, cpus: 2);
        Assert.Equal(64, aligned.Align);
        Assert.Equal(64, aligned.Size);
        var explicitAlign = SlabLayout.Calculate("t", 20, 32, SlabFlags.None, hasCtor: false, cpus: 2);
        Assert.Equal(32, explicitAlign.Size);
        // A struct rounded up to its size class keeps its constructed state with the free pointer in the spare room.
        var rounded = SlabLayout.Calculate("t", 2048, 0, SlabFlags.None, hasCtor: true, cpus: 2, inUse: 1504);
        Assert.Equal((2048, 1504), (rounded.Size, rounded.Offset));
        var full = SlabLayout.Calculate("t", 2048, 0, SlabFlags.None, hasCtor: true, cpus: 2, inUse: 2044);
        Assert.Equal((2056, 2048), (full.Size, full.Offset));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(-1, 0)]
    [InlineData(4 * 1024 * 1024 + 1, 0)]
    [InlineData(64, 3)]
    [InlineData(64, 8192)]
    [InlineData(64, -8)]
    public void Bad_layouts_name_the_cache(int size, int align)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => SlabLayout.Calculate("layout_cache", size, align, SlabFlags.None, false, 2));
        Assert.Contains("layout_cache", e.Message);
    }

    [Fact]
    public void Object_test_agrees_with_division_at_every_slot_edge_for_every_size()
    {
        // Every layout size up to 8 KiB, with and without a ctor (which moves the free pointer out of the object),
        // and the largest objects a slab can hold: the test's one multiply and compare against % and /.
        var sizes = Enumerable.Range(1, 1024).Select(i => i * 8).Concat([12_345, 65_536, 100_000, 1 << 20, SlabLayout.MaxObjectSize - 8]);
        int[] nudges = [-8, -1, 0, 1, 8];
        long checks = 0;
        foreach (int objectSize in sizes)
        {
            foreach (bool ctor in new[] { false, true })
            {
                SlabLayout layout = SlabLayout.Calculate("edges", objectSize, 0, SlabFlags.None, ctor, cpus: 2);
                var fast = new FastPath(1, 1, layout, random: 0x9e3779b97f4a7c15);
                long slabBytes = layout.SlabBytes;
                for (long k = 0; k <= layout.ObjectsPerSlab + 1; k++)
                {
                    foreach (int nudge in nudges)
                    {
                        long off = k * layout.Size + nudge;
                        if (off < 0 || off >= slabBytes)
                            continue;
                        bool expected = off % layout.Size == 0 && off / layout.Size < layout.ObjectsPerSlab;
                        // The test sees offsets within the reserve, so any arena's copy of the slab must agree too.
                        nuint inThirdArena = 3 * PageAlloc.PageSource.ArenaSize + (nuint)(2 * slabBytes + off);
                        Assert.True(expected == fast.IsObjectInOwnArena(inThirdArena),
                            $"size {layout.Size} (object {objectSize}, ctor {ctor}), order {layout.Order}, offset {off}");
                        Assert.False(FastPath.Never.IsObjectInOwnArena(inThirdArena));
                        checks++;
                    }
                }
            }
        }
        Assert.True(checks > 100_000, $"only {checks} offsets checked");
    }

    [Fact]
    public void Array_cache_transfers_from_the_top_and_drops_the_oldest()
    {
        ArrayCache* a = ArrayCache.Create(8, 4), b = ArrayCache.Create(4, 2);
        for (int i = 1; i <= 6; i++)
            ArrayCache.Entry(a)[a->Avail++] = (void*)i;
        Assert.Equal(4, ArrayCache.Transfer(b, a, 10)); // limited by b's room
        Assert.Equal(2, a->Avail);
        Assert.Equal(new nint[] { 3, 4, 5, 6 }, Enumerable.Range(0, 4).Select(i => (nint)ArrayCache.Entry(b)[i]));
        ArrayCache.RemoveOldest(ArrayCache.Entry(b), ref b->Avail, 3);
        Assert.Equal(1, b->Avail);
        Assert.Equal(6, (nint)ArrayCache.Entry(b)[0]);
        ArrayCache.Destroy(a);
        ArrayCache.Destroy(b);
    }

    [Fact]
    public void Node_lists_link_and_unlink()
    {
        using SlabCache cache = SlabCache.Create(TestSupport.Name("lists"), 64, flags: SlabFlags.Panic)!;
        var n = new KmemCacheNode(cache, 0, 1);
        var slabs = (Slab*)NativeMemory.AllocZeroed(3, (nuint)sizeof(Slab));
        using var held = n.ListLock.EnterScope(); // the list operations' caller holds list_lock
        n.ListAdd(&slabs[0], SlabList.Partial);
        n.ListAdd(&slabs[1], SlabList.Partial);
        n.ListAdd(&slabs[2], SlabList.Free);
        Assert.Equal((2, 0, 1), (n.NrPartial, n.NrFull, n.NrFree));
        n.ListDel(&slabs[1]);
        n.ListAdd(&slabs[1], SlabList.Full);
        Assert.True(n.SlabsPartial == &slabs[0] && slabs[0].Next == null && slabs[0].Prev == null);
        Assert.True(n.SlabsFull == &slabs[1]);
        n.ListDel(&slabs[0]);
        n.ListDel(&slabs[2]);
        Assert.Equal(1, n.TotalSlabs);
        NativeMemory.Free(slabs);
    }

    [Fact]
    public void Cpulists_parse_like_the_kernel_prints_them()
    {
        Assert.Equal(new[] { 0, 1, 2, 3, 8, 10, 11 }, NodeTopology.ParseCpuList("0-3,8,10-11").ToArray());
        var t = NodeTopology.Simulated(2, 4);
        Assert.Equal((2, 4), (t.NodeCount, t.CpuCount));
        Assert.Equal(new[] { 0, 1, 0, 1 }, Enumerable.Range(0, 4).Select(t.NodeOf));
        Assert.Equal(2, t.CpusOnNode(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => NodeTopology.Simulated(5, 4));
        Assert.True(NodeTopology.Machine.NodeCount >= 1);
    }
}
