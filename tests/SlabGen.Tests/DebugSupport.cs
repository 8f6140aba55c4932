using System;
using System.Collections.Concurrent;
using System.Linq;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// The reports made about one cache while the scope lives, collected from <see cref="SlabAllocator.ErrorReported"/> (the
/// kunit tests' <c>slab_errors</c> resource): <see cref="KunitErrors"/> counts them as <c>slab_add_kunit_errors</c> does.
/// </summary>
internal sealed class CacheReports : IDisposable
{
    private readonly string _cache;
    private readonly ConcurrentQueue<SlabError> _seen = new();

    public CacheReports(string cache)
    {
        _cache = cache;
        SlabAllocator.ErrorReported += OnError;
    }

    public CacheReports(SlabCache cache) : this(cache.Name)
    {
    }

    public SlabError[] Seen => _seen.ToArray();

    /// <summary>What the kernel's kunit tests would count for the reports so far.</summary>
    public int KunitErrors => Seen.Sum(e => e.KunitErrors);

    /// <summary>Every report so far, as text.</summary>
    public string Text => string.Concat(Seen.Select(e => e.Report));

    /// <summary>Forgets what was seen (<c>slab_errors = 0</c>).</summary>
    public void Clear()
    {
        while (_seen.TryDequeue(out _))
        {
        }
    }

    /// <summary>The one report seen, of <paramref name="kind"/>, about <paramref name="obj"/>.</summary>
    public SlabError Single(SlabErrorKind kind, nint obj)
    {
        SlabError e = Assert.Single(Seen);
        Assert.Equal(kind, e.Kind);
        Assert.Equal(_cache, e.CacheName);
        Assert.Equal((nuint)obj, e.Object);
        Assert.Contains($"BUG {_cache} (Not tainted): ", e.Report);
        Assert.Contains($"Object 0x{obj:x} @offset=", e.Report);
        return e;
    }

    private void OnError(SlabError e)
    {
        if (e.CacheName == _cache)
            _seen.Enqueue(e);
    }

    public void Dispose() => SlabAllocator.ErrorReported -= OnError;
}

internal static class DebugSupport
{
    /// <summary>
    /// A cache as <c>lib/slub_kunit.c</c>'s <c>test_kmem_cache_create</c> makes one: its own flags only (the tests run
    /// without <c>SLABGEN_DEBUG</c>), <paramref name="kmalloc"/> for <c>SLAB_KMALLOC</c>.
    /// </summary>
    public static SlabCache Create(string name, int size, SlabFlags flags, bool kmalloc = false, int align = 0)
        => SlabCache.Create(TestSupport.Name(name), new SlabCacheOptions { Size = size, Align = align, Flags = flags | SlabFlags.Panic, Kmalloc = kmalloc })!;
}
