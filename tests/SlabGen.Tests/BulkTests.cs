using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using Xunit;

namespace SlabGen.Tests;

public unsafe class BulkTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(59)]
    [InlineData(1024)]
    [InlineData(10_000)]
    public void Bulk_alloc_hands_out_distinct_objects_and_bulk_free_takes_them_all_back(int count)
    {
        using var cache = SlabCache.Create(TestSupport.Name("bulk"), 64)!;
        var objs = new nint[count];
        for (int round = 0; round < 3; round++)
        {
            cache.AllocBulk(objs);
            var seen = new HashSet<nint>();
            for (int i = 0; i < count; i++)
            {
                Assert.True(cache.Contains((void*)objs[i]));
                Assert.True(seen.Add(objs[i]), "an object was handed out twice");
                *(long*)objs[i] = i;
            }
            TestSupport.AssertBalanced(cache, count);
            for (int i = 0; i < count; i++)
                Assert.Equal(i, *(long*)objs[i]);
            cache.FreeBulk(objs);
            TestSupport.AssertBalanced(cache, 0);
        }
        SlabStatistics s = cache.GetStatistics();
        Assert.Equal(3L * count, s.Allocations);
        Assert.Equal(3L * count, s.Frees);
        cache.Shrink();
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);
    }

    [Fact]
    public void Bulk_and_single_calls_mix_and_zeros_are_skipped()
    {
        using var typed = SlabCache<Guid>.Create(TestSupport.Name("bulk_typed"));
        var objs = new nint[300];
        typed.AllocBulk(objs.AsSpan(0, 200));
        for (int i = 200; i < 300; i += 2)
            objs[i] = (nint)typed.Alloc();
        typed.FreeBulk(objs); // holds 50 zeros
        TestSupport.AssertBalanced(typed.Cache, 0);
        Assert.Equal(250, typed.Cache.GetStatistics().Frees);
    }

    [Fact]
    public void A_bad_pointer_in_a_bulk_free_frees_nothing()
    {
        string name = TestSupport.Name("bulk_bad");
        using var cache = SlabCache.Create(name, 64)!;
        var objs = new nint[500];
        cache.AllocBulk(objs);
        for (int i = 0; i < objs.Length; i++)
            for (int w = 0; w < 8; w++)
                ((long*)objs[i])[w] = i * 8 + w;
        void* native = NativeMemory.Alloc(64);
        nint good = objs[250];
        objs[250] = (nint)native;
        try
        {
            Assert.Contains(name, Assert.Throws<ArgumentException>(() => cache.FreeBulk(objs)).Message);
            TestSupport.AssertBalanced(cache, 500);
            // The objects before the bad pointer were checked and marked first: every word is the owner's again.
            for (int i = 0; i < objs.Length; i++)
                for (int w = 0; w < 8 && i != 250; w++)
                    Assert.Equal(i * 8 + w, ((long*)objs[i])[w]);
        }
        finally
        {
            NativeMemory.Free(native);
        }
        objs[250] = good;
        cache.FreeBulk(objs);
        TestSupport.AssertBalanced(cache, 0);
    }

    private static int s_constructed;
    private static int s_failAt;

    private static void FailingCtor(void* p)
    {
        if (Interlocked.Increment(ref s_constructed) == Volatile.Read(ref s_failAt))
            throw new InvalidOperationException("ctor refused");
    }

    [Fact]
    public void A_bulk_alloc_that_cannot_finish_gives_back_what_it_took()
    {
        using var cache = SlabCache.Create(TestSupport.Name("bulk_fail"), 64, ctor: &FailingCtor)!;
        Volatile.Write(ref s_failAt, Volatile.Read(ref s_constructed) + 5 * cache.ObjectsPerSlab + 3); // during the sixth slab
        var objs = new nint[10 * cache.ObjectsPerSlab];
        Assert.Throws<InvalidOperationException>(() => cache.AllocBulk(objs));
        Assert.All(objs, p => Assert.Equal(0, p));
        TestSupport.AssertBalanced(cache, 0);
        SlabStatistics s = cache.GetStatistics();
        Assert.Equal(s.Allocations, s.Frees);
        cache.AllocBulk(objs); // the cache still works
        cache.FreeBulk(objs);
    }
}
