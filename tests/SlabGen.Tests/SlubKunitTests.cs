using System;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// <c>lib/slub_kunit.c</c>, ported: each test damages a cache the way the kernel's does and expects the kernel's count
/// of errors (<c>slab_errors</c>, one per <c>BUG</c> line, per <c>FIX</c> line, and per object a leak report lists),
/// read from <see cref="SlabError"/>'s <c>KunitErrors</c>. Where the count differs, the test says why. Each also checks
/// that the report names the cache and the object, and that the damage was repaired.
/// </summary>
public unsafe class SlubKunitTests
{
    [Fact]
    public void test_clobber_zone()
    {
        SlabCache s = DebugSupport.Create("TestSlub_RZ_alloc", 64, SlabFlags.RedZone);
        using var errors = new CacheReports(s);
        byte* p = (byte*)s.Alloc();

        p[64] = 0x12;

        Assert.Equal(1, s.Validate());
        Assert.Equal(2, errors.KunitErrors); // kernel: 2 (Right Redzone overwritten, and its FIX)
        SlabError e = errors.Single(SlabErrorKind.RedzoneOverwritten, (nint)p);
        Assert.Contains("Right Redzone overwritten", e.Summary);
        Assert.Contains($"INFO: 0x{(nuint)(p + 64):x}-0x{(nuint)(p + 64):x} @offset=", e.Report);
        Assert.Contains("First byte 0x12 instead of 0xcc", e.Report);
        Assert.Contains($"FIX {s.Name}: Restoring Right Redzone 0x{(nuint)(p + 64):x}-0x{(nuint)(p + 64):x}=0xcc", e.Report);
        Assert.Equal(0xcc, p[64]); // restored

        s.Free(p);
        s.Dispose();
    }

    [Fact]
    public void test_next_pointer()
    {
        SlabCache s = DebugSupport.Create("TestSlub_next_ptr_free", 64, SlabFlags.Poison);
        using var errors = new CacheReports(s);
        byte* p = (byte*)s.Alloc();
        s.Free(p);
        ulong* ptrAddr = (ulong*)(p + s.FreePointerOffset);
        ulong tmp = *ptrAddr;
        p[s.FreePointerOffset] = (byte)~p[s.FreePointerOffset];

        // The kernel expects 3: "Freechain corrupt", then "Wrong object count" and its FIX, because cutting the chain at
        // p loses every object after it, which in the kernel are all the slab's never-allocated objects. SlabGen hands
        // never-allocated objects out by index (Slab.Bump), not from the freelist: p's freelist is p alone, the cut loses
        // nothing, and the count stays right. The chain the kernel has is built in test_next_pointer_with_a_chain.
        Assert.Equal(1, s.Validate());
        Assert.Equal(1, errors.KunitErrors);
        SlabError e = errors.Single(SlabErrorKind.FreechainCorrupt, (nint)p);
        Assert.Equal("Freechain corrupt", e.Summary);

        // The kernel expects 2 here: its first validation adjusted the count for the lost objects, which the restored
        // pointer brings back. SlabGen cut the chain where it ended anyway: the restored word is the one already there.
        *ptrAddr = tmp;
        errors.Clear();
        Assert.Equal(0, s.Validate());
        Assert.Equal(0, errors.KunitErrors);

        errors.Clear();
        Assert.Equal(0, s.Validate());
        Assert.Equal(0, errors.KunitErrors); // kernel: 0

        s.Dispose();
    }

    /// <summary>
    /// <see cref="test_next_pointer"/> with the kernel's freelist: p followed by free objects, so that the corrupted
    /// pointer cuts some off. Here the mechanism is the kernel's and so are the counts: 3, 2, 0.
    /// </summary>
    [Fact]
    public void test_next_pointer_with_a_chain()
    {
        SlabCache s = DebugSupport.Create("TestSlub_next_ptr_chain", 64, SlabFlags.Poison);
        using var errors = new CacheReports(s);
        nint[] objs = TestSupport.AllocMany(s, 4);
        for (int i = objs.Length - 1; i >= 0; i--)
            s.Free((void*)objs[i]); // the freelist: objs[0] -> objs[1] -> objs[2] -> objs[3]
        byte* p = (byte*)objs[0];
        ulong* ptrAddr = (ulong*)(p + s.FreePointerOffset);
        ulong tmp = *ptrAddr;
        p[s.FreePointerOffset] = (byte)~p[s.FreePointerOffset];

        Assert.Equal(2, s.Validate());
        Assert.Equal(3, errors.KunitErrors); // kernel: 3 (Freechain corrupt; Wrong object count and its FIX)
        Assert.Contains(errors.Seen, e => e.Kind == SlabErrorKind.FreechainCorrupt && e.Object == (nuint)p);
        Assert.Contains(errors.Seen, e => e.Kind == SlabErrorKind.CountCorrupt && e.Summary == "Wrong object count. Counter is 0 but counted were 3");

        *ptrAddr = tmp;
        errors.Clear();
        Assert.Equal(1, s.Validate());
        Assert.Equal(2, errors.KunitErrors); // kernel: 2 (the count, adjusted back, and its FIX)
        Assert.Contains(errors.Seen, e => e.Summary == "Wrong object count. Counter is 3 but counted were 0");

        errors.Clear();
        Assert.Equal(0, s.Validate());
        Assert.Equal(0, errors.KunitErrors); // kernel: 0

        s.Dispose();
    }

    [Fact]
    public void test_first_word()
    {
        SlabCache s = DebugSupport.Create("TestSlub_1th_word_free", 64, SlabFlags.Poison);
        using var errors = new CacheReports(s);
        byte* p = (byte*)s.Alloc();
        s.Free(p);

        *p = 0x78;

        Assert.Equal(1, s.Validate());
        Assert.Equal(2, errors.KunitErrors); // kernel: 2 (Poison overwritten, and its FIX)
        SlabError e = errors.Single(SlabErrorKind.PoisonOverwritten, (nint)p);
        Assert.Equal("Poison overwritten", e.Summary);
        Assert.Contains($"INFO: 0x{(nuint)p:x}-0x{(nuint)p:x} @offset=", e.Report);
        Assert.Contains("First byte 0x78 instead of 0x6b", e.Report);
        Assert.Contains($"FIX {s.Name}: Restoring Poison 0x{(nuint)p:x}-0x{(nuint)p:x}=0x6b", e.Report);
        Assert.Equal(0x6b, *p);

        s.Dispose();
    }

    [Fact]
    public void test_clobber_50th_byte()
    {
        SlabCache s = DebugSupport.Create("TestSlub_50th_word_free", 64, SlabFlags.Poison);
        using var errors = new CacheReports(s);
        byte* p = (byte*)s.Alloc();
        s.Free(p);

        p[50] = 0x9a;

        Assert.Equal(1, s.Validate());
        Assert.Equal(2, errors.KunitErrors); // kernel: 2
        SlabError e = errors.Single(SlabErrorKind.PoisonOverwritten, (nint)p);
        Assert.Contains($"INFO: 0x{(nuint)(p + 50):x}-0x{(nuint)(p + 50):x} @offset=", e.Report);
        Assert.Contains("First byte 0x9a instead of 0x6b", e.Report);
        Assert.Equal(0x6b, p[50]);

        s.Dispose();
    }

    [Fact]
    public void test_clobber_redzone_free()
    {
        SlabCache s = DebugSupport.Create("TestSlub_RZ_free", 64, SlabFlags.RedZone);
        using var errors = new CacheReports(s);
        byte* p = (byte*)s.Alloc();
        s.Free(p);

        p[64] = 0xab;

        Assert.Equal(1, s.Validate());
        Assert.Equal(2, errors.KunitErrors); // kernel: 2
        SlabError e = errors.Single(SlabErrorKind.RedzoneOverwritten, (nint)p);
        Assert.Contains("First byte 0xab instead of 0xbb", e.Report);
        Assert.Equal(0xbb, p[64]);

        s.Dispose();
    }

    [Fact]
    public void test_kmalloc_redzone_access()
    {
        SlabCache s = DebugSupport.Create("TestSlub_RZ_kmalloc", 32, SlabFlags.StoreUser | SlabFlags.RedZone, kmalloc: true);
        using var errors = new CacheReports(s);
        byte* p = (byte*)s.AllocSlow(18); // __kmalloc_cache_noprof(s, GFP_KERNEL, 18)

        p[18] = 0xab;
        p[19] = 0xab;

        Assert.Equal(1, s.Validate());
        Assert.Equal(2, errors.KunitErrors); // kernel: 2
        SlabError e = errors.Single(SlabErrorKind.RedzoneOverwritten, (nint)p);
        Assert.Equal("kmalloc Redzone overwritten", e.Summary);
        Assert.Contains($"INFO: 0x{(nuint)(p + 18):x}-0x{(nuint)(p + 19):x} @offset=", e.Report);
        Assert.Contains("First byte 0xab instead of 0xcc", e.Report);
        Assert.Contains("INFO: Allocated in ", e.Report); // U: the track names the allocation
        Assert.Equal(0xcc, p[18]);
        Assert.Equal(0xcc, p[19]);

        s.Free(p);
        s.Dispose();
    }

    [Fact]
    public void test_leak_destroy()
    {
        SlabCache s = DebugSupport.Create("TestSlub_leak_destroy", 64, SlabFlags.NoMerge);
        using var errors = new CacheReports(s);
        byte* p = (byte*)s.Alloc();

        // The kernel's kmem_cache_destroy warns and leaks the cache; SlabGen's Dispose refuses and leaves it usable.
        var refused = Assert.Throws<InvalidOperationException>(() => s.Dispose());

        Assert.Equal(2, errors.KunitErrors); // kernel: 2 (Objects remaining, and the one object it lists)
        SlabError e = Assert.Single(errors.Seen);
        Assert.Equal(SlabErrorKind.ObjectsRemaining, e.Kind);
        Assert.Equal($"Objects remaining in {s.Name} on __kmem_cache_shutdown()", e.Summary);
        Assert.Contains($"BUG {s.Name} (Not tainted): Objects remaining", e.Report);
        Assert.Contains($"INFO: Object 0x{(nuint)p:x} @offset=", e.Report);
        Assert.Contains($"1 object is still allocated:\n  0x{(nuint)p:x}", refused.Message);
        Assert.False(s.IsDisposed);

        s.Free(p);
        s.Dispose();
    }

    [Fact]
    public void test_krealloc_redzone_zeroing()
    {
        SlabCache s = DebugSupport.Create("TestSlub_krealloc", 64, SlabFlags.StoreUser | SlabFlags.RedZone, kmalloc: true);
        using var errors = new CacheReports(s);
        byte* p = (byte*)s.AllocSlow(48);
        new Span<byte>(p, 48).Fill(0xff);

        // Shrink: the tail becomes kmalloc red zone.
        p = (byte*)Kmalloc.Zrealloc(p, 40);
        for (int i = 40; i < 64; i++)
            Assert.Equal(0xcc, p[i]);

        // Grow within the same 64-byte object: the bytes between the old and the new size are zeroed, the rest red zone.
        p = (byte*)Kmalloc.Zrealloc(p, 56);
        for (int i = 40; i < 56; i++)
            Assert.Equal(0, p[i]);
        for (int i = 56; i < 64; i++)
            Assert.Equal(0xcc, p[i]);

        Assert.Equal(0, s.Validate());
        Assert.Equal(0, errors.KunitErrors); // kernel: 0

        // Grow into a bigger (128-byte) object: what the caller asked for is copied, the rest zeroed.
        new Span<byte>(p, 56).Fill(0xff);
        p = (byte*)Kmalloc.Zrealloc(p, 112);
        Assert.False(s.Contains(p));
        for (int i = 0; i < 56; i++)
            Assert.Equal(0xff, p[i]);
        for (int i = 56; i < 112; i++)
            Assert.Equal(0, p[i]);

        Kmalloc.Free(p);
        s.Dispose();
    }
}
