using System;
using System.Runtime.InteropServices;
using SlabGen.Core;
using Xunit;

namespace SlabGen.Tests;

/// <summary>The typed face (what a generated <c>T.Cache</c> returns) offers every operation and property of the cache.</summary>
public unsafe class TypedFaceTests
{
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private struct Rec
    {
        public long A;
    }

    [Fact]
    public void Every_property_of_the_typed_face_is_its_cache_s()
    {
        using SlabCache<Rec> typed = SlabCache<Rec>.Create(TestSupport.Name("face_props"), new SlabCacheOptions { Align = 16, Limit = 30, BatchCount = 10, SharedFactor = 2 });
        SlabCache c = typed.Cache;
        Assert.Equal(40, typed.ObjectSize);
        Assert.Equal((c.Name, c.Align, c.Size, c.ObjectsPerSlab, c.Order, c.FreePointerOffset, c.Flags, c.NodeCount),
            (typed.CacheName, typed.Align, typed.Size, typed.ObjectsPerSlab, typed.Order, typed.FreePointerOffset, typed.Flags, typed.NodeCount));
        Assert.Equal((30, 10, 2), (typed.Limit, typed.BatchCount, typed.SharedFactor));
        Assert.Equal((c.AutoTuned, c.AutoMaxLimit), (typed.AutoTuned, typed.AutoMaxLimit));
        Assert.False(typed.AutoTuned);
        Assert.Empty(typed.Aliases);
        Assert.False(typed.IsDisposed);

        Rec* p = typed.Alloc();
        Assert.True(typed.Contains(p));
        Assert.False(typed.Contains((Rec*)((byte*)p + 8)));
        Assert.Equal(c.GetSlabInfo(), typed.GetSlabInfo());
        Assert.Equal(1, typed.GetStatistics().Allocations);
        Assert.Equal(0, typed.Validate());
        Assert.Contains(typed.GetLiveObjects(), o => o.Address == (nuint)p);
        typed.Free(p);
    }

    [Fact]
    public void Shrink_reap_and_tune_work_through_the_typed_face()
    {
        using SlabCache<Rec> typed = SlabCache<Rec>.Create(TestSupport.Name("face_ops"));
        var objs = new nint[500];
        for (int i = 0; i < objs.Length; i++)
            objs[i] = (nint)typed.Alloc();
        foreach (nint p in objs)
            typed.Free((Rec*)p);
        Assert.True(typed.GetSlabInfo().NumSlabs > 0);
        typed.Reap();
        Assert.True(typed.Shrink() > 0);
        Assert.Equal(0, typed.GetSlabInfo().NumSlabs);
        typed.Tune(16, 8, 0);
        Assert.Equal((16, 8, 0), (typed.Limit, typed.BatchCount, typed.SharedFactor));
        Assert.False(typed.AutoTuned); // an explicit tune pins the numbers
        Rec* q = typed.Alloc();
        typed.Free(q);
        TestSupport.AssertBalanced(typed.Cache, 0);
    }

    [Fact]
    public void An_alias_shares_its_target_s_row_and_counters_but_refuses_a_tune()
    {
        SlabCache target = Kmalloc.CacheFor(40);
        string name = TestSupport.Name("face_alias");
        SlabCache<Rec> alias = SlabCache<Rec>.Alias(name, target);
        try
        {
            Assert.True(alias.IsAlias);
            Assert.Equal(name, alias.Name);
            Assert.Equal(target.Name, alias.CacheName);
            Assert.Contains(name, alias.Aliases);
            Assert.Equal(target.Size, alias.Size);
            Rec* p = alias.Alloc();
            Assert.Equal(target.Name, alias.GetSlabInfo().Name);
            alias.Free(p);
            alias.Shrink(); // shrinking a shared cache is harmless to its other users
            int limit = target.Limit;
            var e = Assert.Throws<InvalidOperationException>(() => alias.Tune(8, 4, 0));
            Assert.Contains(name, e.Message);
            Assert.Contains(target.Name, e.Message);
            Assert.Equal(limit, target.Limit);
        }
        finally
        {
            alias.Dispose();
        }
        Assert.True(alias.IsDisposed);
        Assert.False(target.IsDisposed);
        Assert.DoesNotContain(name, target.Aliases);
    }

    [Fact]
    public void Disposing_the_typed_face_destroys_its_cache()
    {
        SlabCache<Rec> typed = SlabCache<Rec>.Create(TestSupport.Name("face_dispose"));
        typed.Dispose();
        Assert.True(typed.IsDisposed);
        Assert.True(typed.Cache.IsDisposed);
    }

    [Fact]
    public void Create_throws_instead_of_returning_null_when_the_cache_cannot_be_made()
    {
        string name = TestSupport.Name("face_fail");
        CacheChain.EnsureUp(); // the kmalloc caches exist before the failure is armed
        InvalidOperationException e;
        using (FaultInjection.FailAfter(1)) // the constructor's slots succeed, the first array fails
            e = Assert.Throws<InvalidOperationException>(() => SlabCache<Rec>.Create(name));
        Assert.Contains(name, e.Message);
        Assert.Contains("out of memory", e.Message);
        using SlabCache<Rec> after = SlabCache<Rec>.Create(name); // the failure kept nothing, not even the name
        Assert.Equal(name, after.Name);
    }
}
