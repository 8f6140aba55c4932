using System.Threading;
using SlabGen.Core;
using SlabGen.Policy;

namespace SlabGen;

// What a cache reports about itself: its slabinfo row, its counters and how many objects its arrays hold.
public sealed unsafe partial class SlabCache
{
    /// <summary>This cache's slabinfo row (<c>get_slabinfo</c>): objects cached in arrays count as active, as in SLAB.</summary>
    public SlabInfoRow GetSlabInfo()
    {
        long totalSlabs = 0, freeSlabs = 0, freeObjects = 0, sharedAvail = 0;
        foreach (KmemCacheNode n in _nodes)
            using (n.ListLock.EnterScope())
            {
                totalSlabs += n.TotalSlabs;
                freeSlabs += n.NrFree;
                freeObjects += n.FreeObjects;
                if (n.Shared != null)
                    sharedAvail += n.Shared->Avail;
            }
        long numObjs = totalSlabs * _layout.ObjectsPerSlab;
        Tunables t = _tunables;
        return new SlabInfoRow(Name, numObjs - freeObjects, numObjs, _layout.Size, _layout.ObjectsPerSlab,
            1 << _layout.Order, t.Limit, t.BatchCount, t.SharedFactor, totalSlabs - freeSlabs, totalSlabs, sharedAvail);
    }

    /// <summary>The cache's STATS counters. Exact when no other thread is using the cache; a close reading otherwise.</summary>
    public SlabStatistics GetStatistics()
    {
        long allocHit, freeHit, allocMiss = 0, freeMiss = 0, remote = 0, barnGet = 0, barnPut = 0;
        lock (_magazineLock)
        {
            allocHit = _retiredAllocHit;
            freeHit = _retiredFreeHit;
            foreach ((nint p, _) in _magazines)
            {
                var m = (Magazine*)p;
                allocHit += Magazine.AllocHit(Volatile.Read(ref m->Count));
                freeHit += Magazine.FreeHit(m);
            }
        }
        for (int cpu = 0; cpu < _topology.CpuCount && !_disposed; cpu++)
        {
            CpuSlot* slot = _cpuSlots + cpu;
            allocHit += Volatile.Read(ref slot->AllocHit);
            allocMiss += Volatile.Read(ref slot->AllocMiss);
            freeHit += Volatile.Read(ref slot->FreeHit);
            freeMiss += Volatile.Read(ref slot->FreeMiss);
            remote += Volatile.Read(ref slot->RemoteFrees);
        }
        foreach (KmemCacheNode n in _nodes)
            using (n.BarnLock.EnterScope())
            {
                barnGet += n.BarnGet;
                barnPut += n.BarnPut;
            }
        return new SlabStatistics(allocHit, allocMiss, freeHit, freeMiss,
            Interlocked.Read(ref _grown), Interlocked.Read(ref _reaped), remote, barnGet, barnPut, QuarantinedSlabs());
    }

    /// <summary>Objects held by the caching layers (magazines, barns, per-CPU and shared arrays). Exact when the cache is idle.</summary>
    internal long CachedObjects()
    {
        CachedByLayer layers = CachedObjectsByLayer();
        return layers.Magazines + layers.Barns + layers.CpuArrays + layers.Shared;
    }

    /// <summary>Objects each caching layer holds. Exact when the cache is idle.</summary>
    internal readonly record struct CachedByLayer(long Magazines, long Barns, long CpuArrays, long Shared);

    /// <summary>Objects each caching layer holds (<see cref="CachedByLayer"/>). Exact when the cache is idle.</summary>
    internal CachedByLayer CachedObjectsByLayer()
    {
        long magazines, cpu = 0, shared = 0;
        lock (_magazineLock)
            magazines = MagazineObjects();
        long barns = BarnObjects();
        for (int c = 0; c < _topology.CpuCount && !_disposed; c++)
        {
            CpuSlot* slot = _cpuSlots + c;
            CpuSlot.Acquire(slot);
            cpu += slot->Ac != null ? slot->Ac->Avail : 0;
            CpuSlot.Release(slot);
        }
        foreach (KmemCacheNode n in _nodes)
            using (n.ListLock.EnterScope())
                shared += n.Shared != null ? n.Shared->Avail : 0;
        return new CachedByLayer(magazines, barns, cpu, shared);
    }

    /// <summary>Objects the thread magazines hold, live or retired. Caller holds <see cref="_magazineLock"/>.</summary>
    private long MagazineObjects()
    {
        long held = 0;
        foreach ((nint p, _) in _magazines)
            held += Magazine.Held((Magazine*)p);
        return held;
    }

    /// <summary>Per node: (total slabs, free objects in slabs, free_limit). For tests of the node layer.</summary>
    internal (int Slabs, long FreeObjects, long FreeLimit) NodeState(int node)
    {
        KmemCacheNode n = _nodes[node];
        using (n.ListLock.EnterScope())
            return (n.TotalSlabs, n.FreeObjects, n.FreeLimit);
    }

    /// <summary>The node whose lists own <paramref name="obj"/>'s slab.</summary>
    internal int NodeOfObject(void* obj) => SlabOf(obj)->Node;

    /// <summary>Thread magazines of this cache that their owners have not freed yet, live or retired.</summary>
    internal int MagazineCount
    {
        get
        {
            lock (_magazineLock)
                return _magazines.Count;
        }
    }

    /// <summary>Blocks this cache holds in the page source.</summary>
    internal int PageBlocks => _pages.Blocks;
}
