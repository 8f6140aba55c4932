using System.Threading;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

// Taking objects back from the caching layers: magazines, depots, per-CPU arrays and shared arrays; shrink and reap.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// Drains every caching layer and gives every free slab back to the page source (<c>kmem_cache_shrink</c>), and
    /// the page source gives their memory back to the OS.
    /// </summary>
    /// <remarks>
    /// The calling thread's magazine and those of exited threads are emptied, and exited threads' magazine tables are
    /// unmapped. Each other live thread's magazine keeps its top object, which an allocation or free of that thread may
    /// be in the middle of using: the thread gives it back at its next operation on the cache, and once the thread has
    /// exited the next <c>Shrink</c> or reap takes it.
    /// </remarks>
    /// <returns>Slabs returned to the page source.</returns>
    public int Shrink()
    {
        int freed = 0;
        using (CacheChain.Enter())
        {
            ThrowIfDisposed();
            ThrowIfPopulating(nameof(Shrink));
            ThreadMagazines.ReclaimExited(); // exited threads' magazines and tables, of every cache
            DrainAll();
            foreach (KmemCacheNode n in _nodes)
                freed += n.DrainFreelist(int.MaxValue);
            PageSource.ReleaseResident(_pages);
        }
        SlabErrors.Flush();
        return freed;
    }

    /// <summary>
    /// Drains every caching layer back to the slabs (<c>drain_cpu_caches</c>): thread magazines, depots, per-CPU
    /// arrays, shared arrays. Caller holds the chain mutex.
    /// </summary>
    private void DrainAll()
    {
        using (_magazines.Enter())
            _magazines.Steal(all: true);
        foreach (KmemCacheNode n in _nodes)
            n.DrainDepot();
        for (int cpu = 0; cpu < _topology.CpuCount; cpu++)
        {
            CpuSlot* slot = _cpuSlots + cpu;
            using (CpuSlot.Enter(slot))
                DrainArray(slot, all: true);
        }
        foreach (KmemCacheNode n in _nodes)
            n.DrainShared();
    }

    /// <summary>
    /// Gives part (or all) of a CPU's array back to its node's slabs (<c>drain_array_locked</c>): its reap share, or
    /// everything. Caller holds the CPU's guard.
    /// </summary>
    private void DrainArray(CpuSlot* slot, bool all)
    {
        ArrayCache* ac = slot->Ac;
        if (ac == null || ac->Avail == 0)
            return;
        int toFree = all ? ac->Avail : ArrayCache.ReapShare(ac->Limit, ac->Avail);
        _nodes[slot->Node].FreeToSlabs(ArrayCache.Entry(ac), toFree);
        ArrayCache.RemoveOldest(ArrayCache.Entry(ac), ref ac->Avail, toFree);
    }

    /// <summary>
    /// One reaping pass over this cache (<c>cache_reap</c>): magazines, depots and per-CPU arrays untouched since the
    /// last pass give back part of their objects, shared arrays likewise, and nodes whose free slabs were not used give
    /// back a fifth of <c>free_limit</c>'s worth of them.
    /// </summary>
    /// <returns>Slabs returned to the page source.</returns>
    public int Reap()
    {
        ThrowIfPopulating(nameof(Reap));
        int freed;
        using (CacheChain.Enter())
            freed = ReapLocked();
        SlabErrors.Flush();
        return freed;
    }

    /// <summary>The body of <see cref="Reap"/>. Caller holds the chain mutex.</summary>
    internal int ReapLocked()
    {
        if (_disposed)
            return 0;
        using (_magazines.Enter())
            _magazines.Steal(all: false);
        foreach (KmemCacheNode n in _nodes)
            n.ReapDepot();
        for (int cpu = 0; cpu < _topology.CpuCount; cpu++)
        {
            CpuSlot* slot = _cpuSlots + cpu;
            using (CpuSlot.Enter(slot))
            {
                ArrayCache* ac = slot->Ac;
                if (ac->Touched != 0)
                    ac->Touched = 0;
                else
                    DrainArray(slot, all: false);
            }
        }
        int freed = 0;
        foreach (KmemCacheNode n in _nodes)
            freed += n.Reap();
        Interlocked.Add(ref _reaped, freed);
        AutoShrinkLocked();
        return freed;
    }
}
