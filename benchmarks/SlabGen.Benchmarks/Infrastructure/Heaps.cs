using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>mimalloc: <c>mi_malloc</c> / <c>mi_free</c> through function pointers.</summary>
public readonly unsafe struct MimallocHeap : IMalloc
{
    public static void Require() => NativePeers.Mimalloc.Require();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Malloc(nuint size) => NativePeers.MiMalloc(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p) => NativePeers.MiFree(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FreeSized(void* p, nuint size) => NativePeers.MiFreeSize(p, size);
}

/// <summary>jemalloc: <c>mallocx(size, 0)</c> / <c>dallocx(p, 0)</c> through function pointers.</summary>
public readonly unsafe struct JemallocHeap : IMalloc
{
    public static void Require() => NativePeers.Jemalloc.Require();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Malloc(nuint size) => NativePeers.JeMallocx(size, 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p) => NativePeers.JeDallocx(p, 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FreeSized(void* p, nuint size) => NativePeers.JeSdallocx(p, size, 0);
}

/// <summary>tcmalloc (gperftools minimal): <c>tc_malloc</c> / <c>tc_free</c> through function pointers.</summary>
public readonly unsafe struct TcmallocHeap : IMalloc
{
    public static void Require() => NativePeers.Tcmalloc.Require();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Malloc(nuint size) => NativePeers.TcMalloc(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p) => NativePeers.TcFree(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FreeSized(void* p, nuint size) => NativePeers.TcFreeSized(p, size);
}

/// <summary>glibc's <c>malloc</c> / <c>free</c> through function pointers: NativeMemory's allocator without its P/Invoke.</summary>
public readonly unsafe struct GlibcHeap : IMalloc
{
    public static void Require() => NativePeers.Glibc.Require();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Malloc(nuint size) => NativePeers.LibcMalloc(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p) => NativePeers.LibcFree(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FreeSized(void* p, nuint size) => NativePeers.LibcFree(p); // glibc 2.36 has no free_sized
}

/// <summary><c>NativeMemory.Alloc</c> / <c>Free</c>, the baseline, as a heap (for the Larson scenario's generic loop).</summary>
public readonly unsafe struct NativeMemoryHeap : IMalloc
{
    public static void Require()
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Malloc(nuint size) => NativeMemory.Alloc(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p) => NativeMemory.Free(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FreeSized(void* p, nuint size) => NativeMemory.Free(p);
}

/// <summary>SlabGen's <c>Kmalloc.Alloc</c> / <c>Free</c> as a heap.</summary>
public readonly unsafe struct KmallocHeap : IMalloc
{
    public static void Require()
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Malloc(nuint size) => Kmalloc.Alloc(size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p) => Kmalloc.Free(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FreeSized(void* p, nuint size) => Kmalloc.Free(p, size);
}
