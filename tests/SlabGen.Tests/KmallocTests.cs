using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Xunit;

namespace SlabGen.Tests;

public unsafe class KmallocTests
{
    private static nuint ExpectedClass(nuint size) => size switch
    {
        <= 8 => 8,
        <= 16 => 16,
        <= 32 => 32,
        <= 64 => 64,
        <= 96 => 96,
        <= 128 => 128,
        <= 192 => 192,
        <= 8192 => (nuint)1 << (64 - BitOperations_LeadingZeroCount(size - 1)),
        _ => (nuint)4096 << Kmalloc_GetOrder(size),
    };

    private static int BitOperations_LeadingZeroCount(nuint v) => System.Numerics.BitOperations.LeadingZeroCount((ulong)v);

    private static int Kmalloc_GetOrder(nuint size)
    {
        int order = 0;
        while (((nuint)4096 << order) < size)
            order++;
        return order;
    }

    [Fact]
    public void Every_size_to_16k_maps_to_its_class_and_ksize_covers_it()
    {
        for (nuint size = 1; size <= 16384; size++)
        {
            byte* p = (byte*)Kmalloc.Alloc(size);
            nuint ks = Kmalloc.Ksize(p);
            Assert.True(ks >= size);
            Assert.Equal(ExpectedClass(size), ks);
            Assert.Equal(0, (nint)p % 8);
            if (ks <= 8192 && System.Numerics.BitOperations.IsPow2((ulong)ks))
                Assert.Equal(0, (nint)p % (nint)ks); // power-of-two classes are naturally aligned
            p[0] = 1;
            p[size - 1] = 2;
            Kmalloc.Free(p);
        }
    }

    [Theory]
    [InlineData(65, 96)]
    [InlineData(96, 96)]
    [InlineData(97, 128)]
    [InlineData(129, 192)]
    [InlineData(193, 256)]
    [InlineData(8192, 8192)]
    [InlineData(8193, 16384)]
    [InlineData(4 * 1024 * 1024, 4 * 1024 * 1024)]
    public void Boundaries(int size, int expected)
    {
        void* p = Kmalloc.Alloc((nuint)size);
        Assert.Equal((nuint)expected, Kmalloc.Ksize(p));
        if (expected <= 8192)
            Assert.True(Kmalloc.CacheFor(size).Contains(p));
        Kmalloc.Free(p);
    }

    [Fact]
    public void Zero_size_returns_the_sentinel_that_free_accepts()
    {
        void* z = Kmalloc.Alloc(0);
        Assert.True(z != null);
        Assert.True(z == Kmalloc.ZeroSizePtr);
        Assert.Equal((nuint)0, Kmalloc.Ksize(z));
        Kmalloc.Free(z);
        Kmalloc.Free(null);
        Assert.Equal((nuint)0, Kmalloc.Ksize(null));
        void* real = Kmalloc.Alloc(1);
        Assert.True(real != z);
        Kmalloc.Free(real);
    }

    [Fact]
    public void Realloc_keeps_contents_across_classes_and_through_large_blocks()
    {
        nuint size = 5;
        byte* p = (byte*)Kmalloc.Alloc(size);
        for (nuint i = 0; i < size; i++)
            p[i] = (byte)(i * 7);
        foreach (nuint next in new nuint[] { 8, 60, 100, 190, 1000, 9000, 70_000, 3_000_000, 50_000, 700, 20 })
        {
            nuint keep = Math.Min(size, next);
            nuint ksBefore = Kmalloc.Ksize(p);
            byte* q = (byte*)Kmalloc.Realloc(p, next);
            if (ksBefore >= next)
                Assert.True(q == p); // krealloc keeps an object that already fits
            Assert.True(Kmalloc.Ksize(q) >= next);
            for (nuint i = 0; i < keep; i++)
                Assert.Equal((byte)(i * 7), q[i]);
            for (nuint i = keep; i < next; i++)
                q[i] = (byte)(i * 7);
            p = q;
            size = next;
        }
        Assert.True(Kmalloc.Realloc(p, 0) == Kmalloc.ZeroSizePtr);
        byte* fresh = (byte*)Kmalloc.Realloc(null, 10);
        Assert.True(Kmalloc.Ksize(fresh) >= 10);
        Kmalloc.Free(fresh);
    }

    [Fact]
    public void Zalloc_memory_is_zero_even_when_the_object_is_reused()
    {
        foreach (nuint size in new nuint[] { 24, 64, 96, 700, 8000, 20_000 })
        {
            var dirty = new nint[300];
            for (int i = 0; i < dirty.Length; i++)
            {
                dirty[i] = (nint)Kmalloc.Alloc(size);
                new Span<byte>((void*)dirty[i], (int)Kmalloc.Ksize((void*)dirty[i])).Fill(0xAB);
            }
            foreach (nint d in dirty)
                Kmalloc.Free((void*)d);
            for (int i = 0; i < dirty.Length; i++)
            {
                byte* z = (byte*)Kmalloc.Zalloc(size);
                Assert.True(new Span<byte>(z, (int)Kmalloc.Ksize(z)).IndexOfAnyExcept((byte)0) < 0);
                dirty[i] = (nint)z;
            }
            foreach (nint d in dirty)
                Kmalloc.Free((void*)d);
            byte* c = (byte*)Kmalloc.Calloc(10, size / 10 + 1);
            Assert.True(new Span<byte>(c, (int)Kmalloc.Ksize(c)).IndexOfAnyExcept((byte)0) < 0);
            Kmalloc.Free(c);
        }
    }

    [Fact]
    public void One_thread_allocates_and_another_frees()
    {
        const int Count = 100_000;
        var queue = new BlockingCollection<nint>(boundedCapacity: 1024);
        string? error = null;
        var consumer = new Thread(() =>
        {
            for (int i = 0; i < Count; i++)
            {
                long* p = (long*)queue.Take();
                nuint size = (nuint)p[1];
                if (p[0] != i || Kmalloc.Ksize(p) < size || ((byte*)p)[size - 1] != 0x77)
                    error ??= $"object {i} arrived damaged";
                Kmalloc.Free(p);
            }
        });
        consumer.Start();
        var rng = new Random(7);
        for (int i = 0; i < Count; i++)
        {
            nuint size = (nuint)rng.Next(17, 2048); // room for the two longs and the end marker
            long* p = (long*)Kmalloc.Alloc(size);
            p[0] = i;
            p[1] = (long)size;
            ((byte*)p)[size - 1] = 0x77;
            queue.Add((nint)p);
        }
        Assert.True(consumer.Join(TimeSpan.FromSeconds(60)));
        Assert.Null(error);
    }

    [Fact]
    public void The_kmalloc_caches_are_in_slabinfo_and_cannot_be_destroyed()
    {
        string table = SlabInfo.Read();
        foreach (string name in new[] { "kmalloc-8", "kmalloc-96", "kmalloc-192", "kmalloc-1k", "kmalloc-8k" })
            Assert.Contains("\n" + name + " ", table);
        Assert.Throws<InvalidOperationException>(() => Kmalloc.CacheFor(64).Dispose());
        Assert.Throws<ArgumentOutOfRangeException>(() => Kmalloc.CacheFor(8193));
        Assert.Equal("kmalloc-192", Kmalloc.CacheFor(129).Name);
        Assert.Equal(Enumerable.Range(1, 8192).Select(s => ExpectedClass((nuint)s)),
            Enumerable.Range(1, 8192).Select(s => (nuint)Kmalloc.CacheFor(s).ObjectSize));
    }
}
