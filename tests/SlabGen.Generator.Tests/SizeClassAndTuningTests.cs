using System;
using SlabGen.Generator.Parse;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>The generator's size classes and tunables agree with the runtime's kmalloc caches and enable_cpucache.</summary>
public class SizeClassAndTuningTests
{
    [Fact]
    public void SizeClassesMatchTheRuntimeKmallocCachesUpTo8K()
    {
        for (int size = 1; size <= SizeClasses.MaxKmallocCacheSize; size++)
            Assert.Equal(Kmalloc.CacheFor(size).ObjectSize, SizeClasses.ClassOf(size));
    }

    [Theory]
    [InlineData(8193, 16384)]
    [InlineData(16384, 16384)]
    [InlineData(100_000, 131072)]
    [InlineData(2_097_153, 4_194_304)]
    [InlineData(4_194_304, 4_194_304)]
    [InlineData(4_194_305, 0)]
    public void SizeClassesContinueInPowersOfTwoTo4M(int size, int expected)
        => Assert.Equal(expected, SizeClasses.ClassOf(size));

    [Theory]
    [InlineData(8, 120, 60, 8)]
    [InlineData(256, 120, 60, 8)]
    [InlineData(512, 54, 27, 8)]
    [InlineData(2048, 24, 12, 8)]
    [InlineData(4096, 24, 12, 8)]
    [InlineData(8192, 8, 4, 0)]
    [InlineData(131072, 8, 4, 0)]
    [InlineData(262144, 1, 1, 0)]
    public void TunablesFollowEnableCpucache(int size, int limit, int batchCount, int sharedFactor)
    {
        Assert.Equal(limit, CpuCacheTuning.LimitFor(size));
        Assert.Equal(batchCount, CpuCacheTuning.BatchCountFor(CpuCacheTuning.LimitFor(size)));
        Assert.Equal(sharedFactor, CpuCacheTuning.SharedFactorFor(size));
    }

    /// <summary>A runtime cache created without tunables picks them itself; the generator's constants must agree (on SMP).</summary>
    [Theory]
    [InlineData(64)]
    [InlineData(512)]
    [InlineData(2048)]
    [InlineData(8192)]
    public unsafe void TunablesMatchWhatTheRuntimePicks(int size)
    {
        Assert.True(Environment.ProcessorCount > 1, "the table assumes SMP, as the generated constants do");
        using SlabCache cache = SlabCache.Create("tuning_probe_" + size + "_" + Guid.NewGuid().ToString("N").Substring(0, 8), size, flags: SlabFlags.Panic)!;
        Assert.Equal(CpuCacheTuning.LimitFor(size), cache.Limit);
        Assert.Equal(CpuCacheTuning.BatchCountFor(cache.Limit), cache.BatchCount);
        Assert.Equal(CpuCacheTuning.SharedFactorFor(size), cache.SharedFactor);
    }

    [Theory]
    [InlineData(1024, 1000, 8, false, 1024)]
    [InlineData(1024, 1000, 8, true, 1024)]   // the free pointer fits in the class's spare room
    [InlineData(1024, 1020, 8, true, 1032)]   // it does not
    [InlineData(4_194_304, 4_194_304, 8, true, 4_194_312)]
    [InlineData(128, 100, 64, true, 128)]
    [InlineData(128, 128, 64, true, 192)]
    public void SlotSizeIsTheRuntimeLayout(int sizeClass, int inUse, int align, bool ctor, long expected)
    {
        Assert.Equal(expected, SizeClasses.SlotSize(sizeClass, inUse, align, ctor));
        if (expected <= 4 * 1024 * 1024)
            Assert.Equal(expected, SlabGen.Core.SlabLayout.Calculate("slot_probe", sizeClass, align, SlabFlags.None, ctor, 2, inUse).Size);
    }

    [Theory]
    [InlineData("Packet", "packet")]
    [InlineData("PacketHeader", "packet_header")]
    [InlineData("HTTPRequest", "http_request")]
    [InlineData("IOBuffer2", "io_buffer2")]
    [InlineData("Vec3D", "vec3_d")]
    [InlineData("already_snake", "already_snake")]
    [InlineData("My_Type", "my_type")]
    public void DefaultNamesAreSnakeCase(string typeName, string expected)
        => Assert.Equal(expected, CacheNames.ToSnakeCase(typeName));
}
