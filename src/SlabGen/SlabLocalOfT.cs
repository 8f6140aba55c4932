using System.Runtime.CompilerServices;
using SlabGen.Core;

namespace SlabGen;

/// <summary>
/// A <see cref="SlabCache{T}"/> bound to the calling thread (mimalloc's <c>mi_heap_t</c>, jemalloc's explicit
/// tcache): it reads the thread's magazine table once, when it is made, and keeps it with a copy of the cache's
/// fast-path state, so a loop that allocates and frees through it pays no thread-local lookup per operation. As a
/// <c>ref struct</c> it cannot be stored on the heap, captured, or held across <c>await</c>, so it never leaves the
/// thread that made it. Get one from <see cref="SlabCache{T}.Local"/> (or the generated <c>T.Local()</c>).
/// </summary>
/// <remarks>
/// It checks exactly what <see cref="SlabCache{T}.Alloc"/> and <see cref="SlabCache{T}.Free"/> check (a pointer of
/// another cache, a double free), and stays correct when the cache is re-tuned, shrunk or reaped under it; once the
/// cache is disposed every call throws <see cref="System.ObjectDisposedException"/>.
/// </remarks>
public readonly unsafe ref struct SlabLocal<T> where T : unmanaged
{
    private readonly SlabLocal _local; // the untyped handle: this one only types its pointers

    internal SlabLocal(SlabCache cache) => _local = new SlabLocal(cache);

    /// <summary>The cache this handle allocates from.</summary>
    public SlabCache Cache => _local.Cache;

    /// <summary>Allocates an object (<c>kmem_cache_alloc</c>) from this thread's magazine.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T* Alloc() => (T*)_local.Alloc();

    /// <summary>Frees an object (<c>kmem_cache_free</c>) into this thread's magazine; null is ignored.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="obj"/> is not an object of this cache, or was never handed out.</exception>
    /// <exception cref="DoubleFreeException"><paramref name="obj"/> is already free; nothing changed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(T* obj) => _local.Free(obj);
}
