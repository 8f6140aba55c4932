using System;

namespace SlabGen;

/// <summary>What kind of damage a <see cref="SlabError"/> reports.</summary>
public enum SlabErrorKind
{
    /// <summary>A free pointer on a slab's freelist does not name a free object of that slab (SLUB's "Freechain corrupt").</summary>
    FreechainCorrupt,

    /// <summary>A free object's free pointer word was overwritten while it was free: a use-after-free write or an overflow from a neighbour.</summary>
    ObjectOverwritten,

    /// <summary>A slab's object count is impossible (more objects freed than handed out, or a full slab on the partial list).</summary>
    CountCorrupt,

    /// <summary>A red zone before or after an object, or a kmalloc object's bytes past the size asked for, were written (<see cref="SlabFlags.RedZone"/>): an overflow or underflow.</summary>
    RedzoneOverwritten,

    /// <summary>A free object's poison was written (<see cref="SlabFlags.Poison"/>): a use after free.</summary>
    PoisonOverwritten,

    /// <summary>The padding of an object slot or of a slab was written (<see cref="SlabFlags.Poison"/>).</summary>
    PaddingOverwritten,

    /// <summary>An object's free pointer is not a valid one for its state (SLUB's "Freepointer corrupt").</summary>
    FreepointerCorrupt,

    /// <summary><see cref="SlabCache.Dispose"/> found objects still allocated (SLUB's "Objects remaining on __kmem_cache_shutdown()"): a leak, or a dispose too early.</summary>
    ObjectsRemaining,
}

/// <summary>
/// One report of damage the allocator found in a cache's memory and contained: the slab involved is quarantined
/// (never allocated from again while the cache lives) and allocation goes on from other slabs. Reports are written to
/// <see cref="SlabAllocator.ErrorWriter"/> (standard error by default) in the kernel's form and raised as
/// <see cref="SlabAllocator.ErrorReported"/>, after the allocator has released its locks.
/// </summary>
public sealed class SlabError
{
    internal SlabError(string cacheName, SlabErrorKind kind, nuint slab, nuint obj, string summary, string report, int kunitErrors)
    {
        KunitErrors = kunitErrors;
        CacheName = cacheName;
        Kind = kind;
        Slab = slab;
        Object = obj;
        Summary = summary;
        Report = report;
    }

    /// <summary>The cache whose memory was damaged.</summary>
    public string CacheName { get; }

    /// <summary>What was found.</summary>
    public SlabErrorKind Kind { get; }

    /// <summary>The first byte of the slab concerned.</summary>
    public nuint Slab { get; }

    /// <summary>The object whose memory was damaged (or that leaked), or 0 when the damage is the slab's own.</summary>
    public nuint Object { get; }

    /// <summary>The report's first line, after the cache name: e.g. "Freechain corrupt".</summary>
    public string Summary { get; }

    /// <summary>The whole report as the kernel prints it (<c>BUG</c>, <c>INFO</c> and <c>FIX</c> lines).</summary>
    public string Report { get; }

    /// <summary>
    /// What the kernel's kunit tests count for this report (<c>slab_add_kunit_errors</c>): its <c>BUG</c> line, each
    /// <c>FIX</c> line, and each object a leak report lists. Lets the ported <c>lib/slub_kunit.c</c> tests compare counts.
    /// </summary>
    internal int KunitErrors { get; }

    /// <inheritdoc/>
    public override string ToString() => Report;
}
