using System.Collections.Generic;
using SlabGen.Core;
using SlabGen.PageAlloc;
using Xunit;

namespace SlabGen.Tests;

public unsafe class PageSourceTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(10)]
    public void Blocks_are_aligned_to_their_size_and_found_again_from_any_interior_pointer(int order)
    {
        var client = new PageSource.PageClient(PageSource.OwnerLarge, order);
        var blocks = new List<nint>();
        nuint bytes = client.BlockBytes;
        for (int i = 0; i < 5; i++)
        {
            Slab* slab = PageSource.AllocBlock(client);
            Assert.True(slab != null);
            Assert.Equal(0u, (nuint)slab->Base % bytes);
            Assert.DoesNotContain((nint)slab->Base, blocks);
            blocks.Add((nint)slab->Base);
            byte* inside = slab->Base + bytes - 1;
            inside[0] = 0x5a; // committed and writable
            Assert.True(PageSource.VirtToSlab(inside, order) == slab);
            Assert.Equal(PageSource.OwnerLarge, PageSource.Owner[PageSource.ArenaOf(inside)]);
        }
        foreach (nint b in blocks)
            PageSource.FreeBlock(client, PageSource.VirtToSlab((void*)b, order));
        Assert.Equal(0, client.Blocks);
        client.Close();
        Assert.Equal(0, client.PcpCount);
    }

    [Fact]
    public void Freed_blocks_park_on_the_hot_list_and_come_back_first()
    {
        var client = new PageSource.PageClient(PageSource.OwnerLarge, 0);
        Slab* a = PageSource.AllocBlock(client);
        byte* baseA = a->Base;
        PageSource.FreeBlock(client, a);
        Assert.Equal(1, client.PcpCount);
        Slab* b = PageSource.AllocBlock(client);
        Assert.True(b->Base == baseA);
        Assert.Equal(0, client.PcpCount);
        PageSource.FreeBlock(client, b);
        Assert.Equal(1, PageSource.DrainPcp(client));
        Assert.Equal(0, client.Blocks);
        client.Close();
    }

    [Fact]
    public void Pointers_outside_the_reserve_have_no_arena()
    {
        byte onStack;
        Assert.Equal(-1, PageSource.ArenaOf(&onStack));
        Assert.Equal(-1, PageSource.ArenaOf(null));
        Assert.Equal(-1, PageSource.ArenaOf(PageSource.Base - 1));
        Assert.Equal(-1, PageSource.ArenaOf(PageSource.Base + PageSource.ReserveBytes));
        Assert.Equal(0, PageSource.ArenaOf(PageSource.Base));
    }

    [Fact]
    public void An_arena_whose_blocks_are_all_back_is_released()
    {
        var client = new PageSource.PageClient(PageSource.OwnerLarge, PageSource.MaxOrder);
        Slab* only = PageSource.AllocBlock(client);
        int arena = PageSource.ArenaOf(only->Base);
        Assert.Equal(PageSource.OwnerLarge, PageSource.Owner[arena]);
        Assert.Equal(0, client.PcpHigh); // 4 MiB blocks are never parked
        PageSource.FreeBlock(client, only);
        Assert.Equal(PageSource.OwnerNone, PageSource.Owner[arena]);
        client.Close();
    }
}
