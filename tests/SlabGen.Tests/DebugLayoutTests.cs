using System;
using SlabGen.Core;
using SlabGen.PageAlloc;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// The debug slot as SLUB's <c>calculate_sizes</c> lays it out, and every object address computed from it: slab base +
/// red_left_pad + i * size, for the bump allocation, the object tests and the slab walks alike.
/// </summary>
public unsafe class DebugLayoutTests
{
    private static SlabLayout Layout(int size, SlabFlags flags, bool ctor = false, bool kmalloc = false, int align = 0)
        => SlabLayout.Calculate("layout_test", size, align, flags, ctor, cpus: 2, kmalloc: kmalloc);

    [Fact]
    public void Without_debug_flags_the_slot_is_the_default_one()
    {
        SlabLayout l = Layout(64, SlabFlags.None);
        Assert.False(l.Debug);
        Assert.Equal((64, 0, 32), (l.Size, l.RedLeftPad, l.Offset));
        Assert.False(l.TracksOrigSize);
    }

    [Fact]
    public void Red_zones_add_a_word_after_the_object_a_padding_word_and_a_left_red_zone()
    {
        // size 64 -> +8 right red zone (inuse 72); free pointer mid-object (32); +8 padding; +8 red_left_pad: 88.
        SlabLayout l = Layout(64, SlabFlags.RedZone);
        Assert.Equal((88, 8, 72, 32, 72, 72), (l.Size, l.RedLeftPad, l.InUse, l.Offset, l.InfoEnd, l.PadOffset));
        Assert.False(l.FreePointerOutside);
        Assert.False(l.PoisonObject);
    }

    [Fact]
    public void Poison_moves_the_free_pointer_out_of_the_object()
    {
        SlabLayout l = Layout(64, SlabFlags.Poison);
        Assert.Equal((72, 0, 64, 64, 72, 72), (l.Size, l.RedLeftPad, l.InUse, l.Offset, l.InfoEnd, l.PadOffset));
        Assert.True(l.FreePointerOutside);
        Assert.True(l.PoisonObject);
        Assert.False(Layout(64, SlabFlags.Poison, ctor: true).PoisonObject); // __OBJECT_POISON needs no ctor
    }

    [Fact]
    public void Full_debugging_lays_out_red_zones_free_pointer_tracks_and_padding()
    {
        // 64 -> 72 (Z) = inuse; free pointer at 72 -> 80; two tracks (2 x 24) -> 128; Z: +8 -> 136, +8 left -> 144.
        SlabLayout l = Layout(64, SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison | SlabFlags.StoreUser);
        Assert.Equal((144, 8, 72, 72, 80, 128), (l.Size, l.RedLeftPad, l.InUse, l.Offset, l.InfoEnd, l.PadOffset));
        Assert.Equal(2 * Track.Size, l.PadOffset - l.InfoEnd);
        Assert.Equal(l.Size - l.RedLeftPad, l.SizeFromObject);
    }

    [Fact]
    public void A_kmalloc_cache_keeps_the_request_size_after_the_tracks()
    {
        // test_kmalloc_redzone_access's cache: 32 -> 40 (Z); free pointer outside (Z with orig_size) -> 48; tracks -> 96;
        // orig_size -> 100; Z: +8 -> 108, +8 left -> 116, aligned to 8: 120.
        SlabLayout l = Layout(32, SlabFlags.StoreUser | SlabFlags.RedZone, kmalloc: true);
        Assert.Equal((120, 40, 48, 96, 100), (l.Size, l.Offset, l.InfoEnd, l.OrigSizeOffset, l.PadOffset));
        Assert.True(l.TracksOrigSize);
        Assert.True(Layout(32, SlabFlags.RedZone, kmalloc: true).TracksOrigSize); // Z alone keeps it too (SlabGen's choice)
        Assert.False(Layout(32, SlabFlags.Poison, kmalloc: true).TracksOrigSize);
        Assert.False(Layout(32, SlabFlags.RedZone | SlabFlags.StoreUser).TracksOrigSize);
    }

    [Fact]
    public void The_left_red_zone_keeps_the_alignment()
    {
        SlabLayout l = Layout(64, SlabFlags.RedZone | SlabFlags.HwCacheAlign);
        Assert.Equal(64, l.RedLeftPad);
        Assert.Equal(0, l.Size % 64);
        Assert.Equal(0, (l.RedLeftPad + 5 * l.Size) % 64); // every object start is cache-line aligned
    }

    [Fact]
    public void An_object_too_big_for_its_metadata_keeps_only_the_checks()
    {
        SlabLayout l = Layout(SlabLayout.MaxObjectSize, SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.StoreUser);
        Assert.Equal(SlabFlags.ConsistencyChecks, l.DebugFlags);
        Assert.Equal(SlabLayout.MaxObjectSize, l.Size);
    }

    [Theory]
    [InlineData(SlabFlags.RedZone)]
    [InlineData(SlabFlags.Poison)]
    [InlineData(SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison | SlabFlags.StoreUser)]
    [InlineData(SlabFlags.RedZone | SlabFlags.HwCacheAlign)]
    public void Objects_sit_at_base_plus_red_left_pad_plus_index_times_size(SlabFlags flags)
    {
        SlabCache cache = DebugSupport.Create("layout_addr", 40, flags);
        SlabLayout l = cache.Layout;
        nint[] objs = TestSupport.AllocMany(cache, l.ObjectsPerSlab);
        byte* slabBase = PageSource.VirtToSlab((void*)objs[0], l.Order)->Base;
        for (int i = 0; i < objs.Length; i++)
        {
            Assert.Equal((nint)(slabBase + l.RedLeftPad + (nint)i * l.Size), objs[i]); // handed out by index, in address order
            Assert.True(cache.Contains((void*)objs[i]));
            Assert.False(cache.Contains((byte*)objs[i] + 8));
            Assert.False(cache.Fast.IsObject((void*)objs[i])); // the fast path never takes a debug cache's objects
        }
        // Slot i is [base + i * size, base + (i + 1) * size), its left red zone first: the last one ends in the slab.
        Assert.True((byte*)objs[^1] + l.SizeFromObject == slabBase + (nint)l.ObjectsPerSlab * l.Size);
        Assert.True((nint)l.ObjectsPerSlab * l.Size <= l.SlabBytes);
        Assert.Equal(0, cache.Validate());
        TestSupport.FreeAll(cache, objs);
        Assert.Equal(0, cache.Validate());
        cache.Dispose();
    }
}
