using SlabGen;
using Xunit;

namespace SlabGen.Tests;

public unsafe class SmokeTests
{
    [Fact]
    public void AllocWriteFree()
    {
        using var cache = SlabCache.Create("smoke_cache", 64, flags: SlabFlags.Panic)!;
        var ptrs = new nint[1000];
        for (int i = 0; i < ptrs.Length; i++)
        {
            long* p = (long*)cache.Alloc();
            *p = i;
            ptrs[i] = (nint)p;
        }
        for (int i = 0; i < ptrs.Length; i++)
            Assert.Equal(i, *(long*)ptrs[i]);
        foreach (nint p in ptrs)
            cache.Free((void*)p);
        Assert.True(cache.Shrink() > 0);
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
    }
}
