using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// Kmalloc's refusals of double frees and bad pointers, and its sized free. These run alone: a second free of a shared
/// kmalloc object (or of a large block, whose pages go straight back to the page source) refuses exactly as long as no
/// other thread has been handed the same memory in between, which in a parallel run another test may just have been.
/// Refused or not, a double free of memory someone else holds now is the one case no allocator can tell from a free.
/// </summary>
[Collection(SerialCollection.Name)]
public unsafe class KmallocRefusalTests
{
    [StructLayout(LayoutKind.Sequential, Size = 48)]
    private struct Item
    {
        public long Stamp;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(192)]
    [InlineData(1000)]
    [InlineData(8192)]
    [InlineData(8193)]
    [InlineData(100_000)]
    public void A_sized_free_frees_what_an_alloc_of_that_size_returned(int size)
    {
        var ptrs = new nint[64];
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                ptrs[i] = (nint)Kmalloc.Alloc((nuint)size);
                ((byte*)ptrs[i])[size - 1] = 0x5a;
            }
            Assert.Equal(ptrs.Length, new HashSet<nint>(ptrs).Count);
            foreach (nint p in ptrs)
                Kmalloc.Free((void*)p, (nuint)size);
        }
        void* q = Kmalloc.Alloc((nuint)size);
        Kmalloc.Free(q, (nuint)size);
        Assert.Throws<DoubleFreeException>(() => Kmalloc.Free(q, (nuint)size));
    }

    [Fact]
    public void A_sized_free_with_a_size_larger_than_the_object_throws_and_frees_nothing()
    {
        void* p = Kmalloc.Alloc(100); // kmalloc-128
        var e = Assert.Throws<ArgumentException>(() => Kmalloc.Free(p, 200));
        Assert.Contains("kmalloc-128", e.Message);
        Assert.Contains("Nothing was freed", e.Message);
        Assert.Equal((nuint)128, Kmalloc.Ksize(p)); // still allocated
        ((byte*)p)[127] = 1;
        void* big = Kmalloc.Alloc(20_000);
        Assert.Throws<ArgumentException>(() => Kmalloc.Free(big, 40_000));
        Kmalloc.Free(big, 20_000);
        Kmalloc.Free(p, 100);
    }

    [Fact]
    public void A_sized_free_accepts_a_smaller_size_the_object_was_kept_for()
    {
        void* p = Kmalloc.Alloc(1000);             // kmalloc-1k
        void* q = Kmalloc.Realloc(p, 10);          // krealloc keeps it
        Assert.Equal((nint)p, (nint)q);
        Kmalloc.Free(q, 10);                       // the size's class is kmalloc-16, the object's kmalloc-1k
        Assert.Throws<DoubleFreeException>(() => Kmalloc.Free(q, 1000));
    }

    [Fact]
    public void A_sized_free_refuses_a_pointer_of_another_cache_and_null_is_ignored()
    {
        using SlabCache<Item> cache = SlabCache<Item>.Create(TestSupport.Name("sized_foreign"));
        Item* p = cache.Alloc();
        var e = Assert.Throws<ArgumentException>(() => Kmalloc.Free(p, 48));
        Assert.Contains(cache.Name, e.Message);
        Kmalloc.Free(null, 48);
        Kmalloc.Free(Kmalloc.ZeroSizePtr, 0);
        Kmalloc.Free(Kmalloc.Alloc(0), 0);
        cache.Free(p);
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public void The_kmalloc_handle_allocates_and_frees_every_size_class()
    {
        KmallocLocal local = Kmalloc.Local();
        for (nuint size = 1; size <= 10_000; size += 37)
        {
            byte* a = (byte*)local.Alloc(size);
            byte* b = (byte*)local.Alloc(size);
            Assert.True(a != b);
            Assert.True(Kmalloc.Ksize(a) >= size);
            a[size - 1] = 1;
            b[size - 1] = 2;
            local.Free(a);
            local.Free(b, size);
        }
        void* p = local.Alloc(64);
        local.Free(p);
        Assert.Throws<DoubleFreeException>(() => Kmalloc.Local().Free(p));
        Assert.Throws<DoubleFreeException>(() => Kmalloc.Local().Free(p, 64));
    }

    [Fact]
    public void Kmalloc_free_and_realloc_refuse_a_freed_pointer_of_any_size()
    {
        foreach (nuint size in new nuint[] { 8, 24, 64, 100, 192, 1000, 8192, 20_000, 1 << 20 })
        {
            void* p = Kmalloc.Alloc(size);
            void* q = Kmalloc.Alloc(size);
            Kmalloc.Free(p);
            Assert.Contains("double free", Assert.Throws<DoubleFreeException>(() => Kmalloc.Free(p)).Message);
            Assert.Throws<DoubleFreeException>(() => Kmalloc.Realloc(p, size / 2 + 1));
            Assert.Throws<DoubleFreeException>(() => Kmalloc.Realloc(p, size * 2));
            Assert.Throws<DoubleFreeException>(() => Kmalloc.Realloc(p, 0));
            Kmalloc.Free(q); // untouched by the refusals
        }
    }

    [Fact]
    public void Bad_input_is_refused_with_what_was_asked()
    {
        Assert.Contains("5000000 bytes", Assert.Throws<ArgumentOutOfRangeException>(() => Kmalloc.Alloc(5_000_000)).Message);
        Assert.True(Kmalloc.TryAlloc(5_000_000) == null);
        Assert.True(Kmalloc.TryAlloc(nuint.MaxValue) == null);
        Assert.Contains("overflow", Assert.Throws<OverflowException>(() => Kmalloc.AllocArray(nuint.MaxValue / 2, 3)).Message);
        Assert.True(Kmalloc.TryAllocArray(nuint.MaxValue / 2, 3) == null);
        void* p = Kmalloc.Alloc(100);
        Assert.True(Kmalloc.TryRealloc(p, 10_000_000) == null);
        Assert.True(Kmalloc.Ksize(p) >= 100); // untouched after the failed resize
        Kmalloc.Free(p);

        void* native = NativeMemory.Alloc(64);
        long onStack = 0;
        void* stackAddress = &onStack;
        using var cache = SlabCache.Create(TestSupport.Name("not_kmalloc"), 64)!;
        void* cacheObject = cache.Alloc();
        void* inside = (byte*)Kmalloc.Alloc(64) + 8;
        void* large = Kmalloc.Alloc(100_000);
        try
        {
            Assert.Contains("never handed out", Assert.Throws<ArgumentException>(() => Kmalloc.Free(native)).Message);
            Assert.Throws<ArgumentException>(() => Kmalloc.Free(stackAddress));
            Assert.Contains(cache.Name, Assert.Throws<ArgumentException>(() => Kmalloc.Free(cacheObject)).Message);
            Assert.Contains("not the start", Assert.Throws<ArgumentException>(() => Kmalloc.Free(inside)).Message);
            Assert.Throws<ArgumentException>(() => Kmalloc.Ksize(native));
            Assert.Throws<ArgumentException>(() => Kmalloc.Free((byte*)large + 4096));
            Kmalloc.Free(large);
            Assert.Contains("double free", Assert.Throws<DoubleFreeException>(() => Kmalloc.Free(large)).Message);
            Assert.Contains("not allocated", Assert.Throws<ArgumentException>(() => Kmalloc.Ksize(large)).Message);
        }
        finally
        {
            NativeMemory.Free(native);
            cache.Free(cacheObject);
            Kmalloc.Free((byte*)inside - 8);
        }
    }
}
