extern alias SlabGenRuntime;

using SlabGen.Generator.Parse;
using SlabGen.Policy;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>
/// What the generator derives from the runtime's rules: the size class of a struct is always a multiple of its
/// alignment, which is why SlabFlags.Merge needs no alignment rule (a merged cache's slots are always aligned enough).
/// </summary>
public class CacheGeometryTests
{
    [Fact]
    public void The_size_class_is_a_multiple_of_the_alignment_for_every_size_and_alignment_a_merge_can_have()
    {
        int checkedCount = 0;
        for (int align = 1; align <= SlabLimits.MaxAlign; align <<= 1)
        {
            for (int size = 1; size <= SizeClasses.MaxCacheSize; size++)
            {
                CacheGeometry geometry = CacheGeometry.Of(new TypeLayout(size, 1), align, hwCacheAlign: false, hasCtor: false);
                if (geometry.SizeClass > SizeClasses.MaxCacheSize)
                    continue;
                Assert.True(geometry.SizeClass % geometry.Align == 0,
                    $"{size} bytes aligned to {align}: class {geometry.SizeClass}, alignment {geometry.Align}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > SizeClasses.MaxCacheSize, "the loop checked " + checkedCount + " cases");
    }

    [Theory]
    [InlineData(1504, 0, true, false, 64, 2048, 2048)]   // the README's Packet: 1536 bytes 64-aligned, in the 2048 class
    [InlineData(4096, 0, false, true, 8, 4096, 4104)]    // a full class leaves no room for the ctor's free pointer
    [InlineData(1000, 0, false, true, 8, 1024, 1024)]    // a class with room for it
    [InlineData(100, 64, false, false, 64, 128, 128)]    // 100 bytes 64-aligned is 128, not the 96 class
    [InlineData(4194296, 0, false, true, 8, 4194304, 4194304)] // the largest struct with a ctor: 8 bytes left for the free pointer
    [InlineData(4194305, 0, false, false, 8, 0, 4194312)] // above every class
    public void Geometry_follows_the_runtime_rules(int size, int align, bool hwCacheAlign, bool ctor, int expectedAlign, int expectedClass, long expectedSlot)
    {
        CacheGeometry geometry = CacheGeometry.Of(new TypeLayout(size, 1), align, hwCacheAlign, ctor);
        Assert.Equal(new CacheGeometry(expectedAlign, expectedClass, expectedSlot), geometry);
        if (!geometry.Fits)
            return;
        // The runtime lays out the cache the generated code creates (the class, SlabSpec.Align, sizeof(T) in use) the same way.
        var runtimeFlags = hwCacheAlign ? SlabGenRuntime::SlabGen.SlabFlags.HwCacheAlign : SlabGenRuntime::SlabGen.SlabFlags.None;
        var layout = SlabGenRuntime::SlabGen.Core.SlabLayout.Calculate("geometry_probe", geometry.SizeClass, geometry.Align, runtimeFlags, ctor, 2, size);
        Assert.Equal((geometry.Align, geometry.Slot), (layout.Align, (long)layout.Size));
    }
}
