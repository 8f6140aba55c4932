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
}

/// <summary>
/// One report of damage the allocator found in a cache's memory and contained: the slab involved is quarantined
/// (never allocated from again while the cache lives) and allocation goes on from other slabs. Reports are written to
/// <see cref="SlabAllocator.ErrorWriter"/> (standard error by default) in the kernel's form and raised as
/// <see cref="SlabAllocator.ErrorReported"/>, after the allocator has released its locks.
/// </summary>
public sealed class SlabError
{
    internal SlabError(string cacheName, SlabErrorKind kind, nuint slab, nuint obj, string summary, string report)
    {
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

    /// <summary>The object whose free pointer was damaged, or 0 when the damage is the slab's own.</summary>
    public nuint Object { get; }

    /// <summary>The report's first line, after the cache name: e.g. "Freechain corrupt".</summary>
    public string Summary { get; }

    /// <summary>The whole report as the kernel prints it (<c>BUG</c>, <c>INFO</c> and <c>FIX</c> lines).</summary>
    public string Report { get; }

    /// <inheritdoc/>
    public override string ToString() => Report;
}
