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
            Slab* slab = PageSource.AllocPages(client);
            Assert.True(slab != null);
            Assert.Equal(0u, (nuint)slab->Base % bytes);
            Assert.DoesNotContain((nint)slab->Base, blocks);
            blocks.Add((nint)slab->Base);
            byte* inside = slab->Base + bytes - 1;
            inside[0] = 0x5a; // committed and writable
            Assert.True(PageSource.VirtToSlab(inside, order) == slab);
            Assert.Equal(PageSource.OwnerLarge, PageSource.ArenaOwner[PageSource.ArenaOf(inside)]);
            Assert.Equal(PageSource.OwnerNone, PageSource.PageOwnerOf(inside)); // not published yet
            PageSource.Publish(client, slab);
            Assert.Equal(PageSource.OwnerLarge, PageSource.PageOwnerOf(inside));
            Assert.Equal(PageSource.OwnerLarge, PageSource.PageOwnerOf(slab->Base));
            if (order < PageSource.MaxOrder) // the next block of the arena, not handed out yet: the block ends where it should
                Assert.Equal(PageSource.OwnerNone, PageSource.PageOwnerOf(slab->Base + bytes));
        }
        foreach (nint b in blocks)
        {
            PageSource.FreePages(client, PageSource.VirtToSlab((void*)b, order));
            Assert.Equal(PageSource.OwnerNone, PageSource.PageOwnerOf((void*)b)); // a freed block is nobody's at once
        }
        Assert.Equal(0, client.Blocks);
        client.Close();
        Assert.Empty(client.Resident);
    }

    [Fact]
    public void Freed_blocks_stay_resident_come_back_first_and_age_out()
    {
        var client = new PageSource.PageClient(PageSource.OwnerLarge, 0);
        Slab* a = PageSource.AllocPages(client);
        byte* baseA = a->Base;
        baseA[100] = 42;
        PageSource.FreePages(client, a);
        Assert.Single(client.Resident);
        Slab* b = PageSource.AllocPages(client);
        Assert.True(b->Base == baseA);
        Assert.Equal(42, baseA[100]); // not discarded: the same page came back
        Assert.Empty(client.Resident);
        Slab* c = PageSource.AllocPages(client);
        PageSource.FreePages(client, b);
        PageSource.FreePages(client, c);
        Assert.Equal(2, client.Resident.Count);
        PageSource.AgeResident(); // first pass: the low-water mark starts from here
        Assert.Equal(2, client.Resident.Count);
        Slab* d = PageSource.AllocPages(client); // one is reused during the interval...
        Assert.True(d != null);
        PageSource.AgeResident(); // ...so only the one that sat idle the whole interval goes
        Assert.Empty(client.Resident);
        PageSource.FreePages(client, d);
        Assert.Equal(1, PageSource.ReleaseResident(client));
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
        Slab* only = PageSource.AllocPages(client);
        int arena = PageSource.ArenaOf(only->Base);
        Assert.Equal(PageSource.OwnerLarge, PageSource.ArenaOwner[arena]);
        PageSource.FreePages(client, only);
        Assert.Equal(PageSource.OwnerLarge, PageSource.ArenaOwner[arena]); // resident until released
        PageSource.ReleaseResident(client);
        Assert.Equal(PageSource.OwnerNone, PageSource.ArenaOwner[arena]);
        client.Close();
    }
}
