using System;
using SlabGen.Core;

namespace SlabGen;

/// <summary>kmalloc: allocation of any size, rounded into the kmalloc-8 ... kmalloc-8k caches.</summary>
public static unsafe partial class Kmalloc
{
    /// <summary>The kmalloc cache that serves <paramref name="size"/> bytes (1 to 8192): kmalloc-8 ... kmalloc-8k.</summary>
    public static SlabCache CacheFor(int size)
    {
        if (size < 1 || size > KmallocCaches.MaxCacheSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"kmalloc: {size} bytes is outside the kmalloc caches' 1..{KmallocCaches.MaxCacheSize}.");
        return KmallocCaches.Cache(KmallocCaches.Index(size));
    }
}
