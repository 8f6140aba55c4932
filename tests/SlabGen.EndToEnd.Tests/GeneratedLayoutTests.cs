using System.Runtime.CompilerServices;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>The sizes the generator computed as an analyzer equal the runtime's, and the caches follow SlabSpec.</summary>
[Collection(CacheCollection.Name)]
public class GeneratedLayoutTests
{
    [Fact]
    public void The_computed_sizes_equal_the_runtime_sizes()
    {
        Assert.Equal(Packet.SlabSpec.ObjectSize, Unsafe.SizeOf<Packet>());
        Assert.Equal(E2eMessage.SlabSpec.ObjectSize, Unsafe.SizeOf<E2eMessage>());
        Assert.Equal(Graph.Node.SlabSpec.ObjectSize, Unsafe.SizeOf<Graph.Node>());
        Assert.Equal(Small.SlabSpec.ObjectSize, Unsafe.SizeOf<Small>());
        Assert.Equal(ExplicitUnion.SlabSpec.ObjectSize, Unsafe.SizeOf<ExplicitUnion>());
        Assert.Equal(Packed.SlabSpec.ObjectSize, Unsafe.SizeOf<Packed>());
        Assert.Equal(Wide.SlabSpec.ObjectSize, Unsafe.SizeOf<Wide>());
    }

    [Fact]
    public void The_caches_are_made_as_SlabSpec_says()
    {
        Assert.Equal("e2e_packet", Packet.Cache.Name);
        Assert.Equal(2048, Packet.Cache.Cache.ObjectSize);
        Assert.Equal(64, Packet.Cache.Cache.Align);
        Assert.Equal((Packet.SlabSpec.Limit, Packet.SlabSpec.BatchCount, Packet.SlabSpec.SharedFactor), (24, 12, 8));

        Assert.Equal("e2e_message", E2eMessage.SlabSpec.Name);
        Assert.Equal(E2eMessage.SlabSpec.Size, E2eMessage.Cache.Cache.ObjectSize);

        SlabCache node = Graph.Node.Cache.Cache;
        Assert.Equal((32, 8, 2), (node.Limit, node.BatchCount, node.SharedFactor));
        Assert.False(node.AutoTuned); // the attribute gives its tunables: they stay
        Assert.True(E2eMessage.Cache.Cache.AutoTuned); // none given: sized to the load, starting from the table
        Assert.True(E2eMessage.Cache.Cache.Limit >= E2eMessage.SlabSpec.Limit);
        Assert.Equal(E2eMessage.Cache.Cache.GetSlabInfo().Name, E2eMessage.Cache.GetSlabInfo().Name); // the typed face has every operation
        E2eMessage.Cache.Reap();
        E2eMessage.Cache.Shrink();
        Assert.Equal("kmalloc-8", Small.Cache.CacheName);

        Assert.True(Small.SlabSpec.Merged);
        Assert.True(Small.Cache.IsAlias);
        Assert.Equal("kmalloc-8", Small.Cache.Cache.Name);

        // Vector256<T> is 32-byte aligned, so Wide is too: 96 bytes, in the 96 class, whose slots keep that alignment.
        Assert.Equal((32, 32, 96), (Wide.SlabSpec.NaturalAlign, Wide.SlabSpec.Align, Wide.SlabSpec.Size));
        unsafe
        {
            Wide* w = Wide.Alloc();
            Assert.Equal(0, (nint)w % 32);
            Wide.Free(w);
        }
    }

    [Fact]
    public void A_cache_is_created_once_and_listed_by_slabinfo()
    {
        Assert.Same(Packet.Cache, Packet.Cache);
        string table = SlabInfo.Read();
        Assert.Contains("\ne2e_packet ", table);
        Assert.Contains("\ne2e_node ", table);
        Assert.DoesNotContain("\ne2e_small ", table); // an alias is served, and listed, by kmalloc-8
    }
}
