using System;
using System.Runtime.CompilerServices;
using SlabGen.Core;

namespace SlabGen;

/// <summary>
/// A <see cref="SlabCache"/> bound to the calling thread: the untyped <see cref="SlabLocal{T}"/>. It reads the
/// thread's magazine table once, when it is made, so a loop that allocates and frees through it pays no thread-local
/// lookup per operation; as a <c>ref struct</c> it never leaves the thread that made it. Get one from
/// <see cref="SlabCache.Local"/>.
/// </summary>
public readonly unsafe ref struct SlabLocal
{
    private readonly FastPath _fast;
    private readonly nint* _table;
    private readonly SlabCache? _cache; // null in a default handle

    internal SlabLocal(SlabCache cache)
    {
        _cache = cache;
        _fast = cache.Fast;
        _table = ThreadMagazines.Table();
    }

    /// <summary>The cache this handle allocates from.</summary>
    public SlabCache Cache => _cache ?? throw SlabLocal.Unbound();

    /// <summary>Allocates an object (<c>kmem_cache_alloc</c>) from this thread's magazine.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc() => AllocThrough(in _fast, _table, _cache);

    /// <summary>Frees an object (<c>kmem_cache_free</c>) into this thread's magazine; null is ignored.</summary>
    /// <exception cref="System.ArgumentException"><paramref name="obj"/> is not an object of this cache, or was never handed out.</exception>
    /// <exception cref="DoubleFreeException"><paramref name="obj"/> is already free; nothing changed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* obj) => FreeThrough(in _fast, _table, _cache, obj);

    /// <summary>
    /// <c>kmem_cache_alloc</c> through a magazine table read earlier on this thread: a handle's, or a
    /// <see cref="SlabMemoryPool"/> owner magazine's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void* AllocThrough(in FastPath fast, nint* table, SlabCache? cache)
    {
        void* obj = fast.TryAlloc(table);
        return obj != null ? obj : AllocSlow(cache);
    }

    /// <summary><c>kmem_cache_free</c> through a magazine table read earlier on this thread; null is ignored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FreeThrough(in FastPath fast, nint* table, SlabCache? cache, void* obj)
    {
        if (obj == null)
            return;
        if (!fast.IsObject(obj))
            NotOnFastPath(cache, obj);
        if (!fast.TryFree(table, obj))
            cache!.FreeSlow(obj); // the object test passed or NotOnFastPath returned: the handle is bound
    }

    /// <summary>The slow path of an allocation through a handle; a default handle, bound to no cache, says so.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void* AllocSlow(SlabCache? cache) => (cache ?? throw Unbound()).AllocSlow();

    /// <summary>
    /// A free through a handle of a pointer the inlined object test refused (<see cref="SlabCache.NotOnFastPath"/>: it
    /// throws unless the cache is a debug cache); a default handle, bound to no cache, says so.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void NotOnFastPath(SlabCache? cache, void* obj) => (cache ?? throw Unbound()).NotOnFastPath(obj);

    internal static InvalidOperationException Unbound()
        => new("This SlabLocal is bound to no cache (it is a default value); get one from SlabCache.Local() or SlabCache<T>.Local().");
}
