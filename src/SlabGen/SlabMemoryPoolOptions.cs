namespace SlabGen;

/// <summary>Everything <see cref="SlabMemoryPool(SlabMemoryPoolOptions)"/> can be told about a new pool.</summary>
public sealed class SlabMemoryPoolOptions
{
    /// <summary>
    /// Bytes per block, the object size of the pool's slab cache, and what <c>Rent()</c> and <c>Rent(-1)</c> hand out:
    /// 1 to 4 MiB, default 4 KiB (Kestrel's block). Multiples of 4 KiB are page aligned.
    /// </summary>
    public int BlockSize { get; init; } = SlabMemoryPool.DefaultBlockSize;

    /// <summary>
    /// The largest request <c>Rent</c> serves: 0 (the default) means <see cref="BlockSize"/>; larger values, up to
    /// <see cref="Kmalloc.MaxSize"/>, serve the requests above the block size from kmalloc.
    /// </summary>
    public int MaxBufferSize { get; init; }

    /// <summary>
    /// The slab cache's name in slabinfo; null (the default) means <c>memorypool-</c> and the block size
    /// (<c>memorypool-4k</c>), with <c>-2</c>, <c>-3</c>, ... appended while that name is taken.
    /// </summary>
    public string? Name { get; init; }

    /// <summary>
    /// Flags for the pool's slab cache, added to <see cref="SlabFlags.HwCacheAlign"/>: the slab_debug flags
    /// (<see cref="SlabFlags.RedZone"/>, <see cref="SlabFlags.Poison"/>, ...) check every block on its way back, so
    /// that a writer that ran past its block, or wrote to it after returning it, is reported (see docs/debugging.md).
    /// </summary>
    public SlabFlags Flags { get; init; }

    /// <summary>
    /// Returned block owners each thread keeps waiting before one of them is handed out again (default
    /// <see cref="SlabMemoryPool.DefaultQuarantine"/>, at most <see cref="SlabMemoryPool.MaxQuarantine"/>): a stale
    /// reference to a returned owner is caught as long as its owner is waiting, that is until this many others have
    /// been returned after it on the thread that returned it. 0 reuses owners at once.
    /// </summary>
    public int Quarantine { get; init; } = SlabMemoryPool.DefaultQuarantine;
}
