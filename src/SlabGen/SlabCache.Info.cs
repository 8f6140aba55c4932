using System.Threading;
using SlabGen.Core;
using SlabGen.Policy;

namespace SlabGen;

// What a cache reports about itself: its slabinfo row, its counters, how many objects each layer holds, its invariant.
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
        (long allocHit, long freeHit) = _magazines.Hits();
        long allocMiss = 0, freeMiss = 0, remote = 0, depotGet = 0, depotPut = 0, quarantined = 0;
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
        {
            using (n.DepotLock.EnterScope())
            {
                depotGet += n.DepotGet;
                depotPut += n.DepotPut;
            }
            using (n.ListLock.EnterScope())
                quarantined += n.NrQuarantined;
        }
        return new SlabStatistics(allocHit, allocMiss, freeHit, freeMiss,
            Interlocked.Read(ref _grown), Interlocked.Read(ref _reaped), remote, depotGet, depotPut, quarantined,
            _tuner.Grows, _tuner.Shrinks);
    }

    /// <summary>SLAB's STATS <c>globalstat</c> columns (the statistics variant of slabinfo).</summary>
    internal readonly record struct GlobalStat(long ListAllocs, long MaxObjs, long Grown, long Reaped, long Errors, long MaxFreeable,
        long NodeAllocs, long RemoteFrees, long AlienOverflow);

    /// <summary>
    /// The <c>globalstat</c> columns: objects handed out of the slabs, the most in use at once and the most free in the
    /// slabs (each the sum of the nodes' own maxima: an upper bound with several nodes), slabs grown and reaped, reports,
    /// and remote frees from <paramref name="st"/>. Allocations from another node's lists and alien overflows cannot
    /// happen here (remote frees go straight to their node's lists), so those two are 0.
    /// </summary>
    internal GlobalStat GetGlobalStat(in SlabStatistics st)
    {
        long listAllocs = 0, maxObjs = 0, maxFreeable = 0;
        foreach (KmemCacheNode n in _nodes)
            using (n.ListLock.EnterScope())
            {
                listAllocs += n.ListAllocs;
                maxObjs += n.HighMark;
                maxFreeable += n.MaxFreeable;
            }
        return new GlobalStat(listAllocs, maxObjs, st.Grown, st.Reaped, ErrorsReported, maxFreeable, 0, st.RemoteFrees, 0);
    }

    /// <summary>Objects held by the caching layers (magazines, depots, per-CPU and shared arrays). Exact when the cache is idle.</summary>
    internal long CachedObjects()
    {
        CachedByLayer layers = CachedObjectsByLayer();
        return layers.Magazines + layers.Depots + layers.CpuArrays + layers.Shared;
    }

    /// <summary>Objects each caching layer holds. Exact when the cache is idle.</summary>
    internal readonly record struct CachedByLayer(long Magazines, long Depots, long CpuArrays, long Shared);

    /// <summary>Objects each caching layer holds (<see cref="CachedByLayer"/>). Exact when the cache is idle.</summary>
    internal CachedByLayer CachedObjectsByLayer()
    {
        long magazines = _magazines.Objects(), depots = 0, cpu = 0, shared = 0;
        foreach (KmemCacheNode n in _nodes)
            depots += n.DepotObjects();
        for (int c = 0; c < _topology.CpuCount && !_disposed; c++)
        {
            CpuSlot* slot = _cpuSlots + c;
            using (CpuSlot.Enter(slot))
                cpu += slot->Ac != null ? slot->Ac->Avail : 0;
        }
        foreach (KmemCacheNode n in _nodes)
            using (n.ListLock.EnterScope())
                shared += n.Shared != null ? n.Shared->Avail : 0;
        return new CachedByLayer(magazines, depots, cpu, shared);
    }

    /// <summary>
    /// What is wrong with the cache's bookkeeping, or null: each node's lists agree with their slabs
    /// (<see cref="KmemCacheNode.Invariant"/>), and the objects the slabs have handed out are those the caching layers
    /// hold plus <paramref name="live"/>, the objects the caller knows are allocated. Exact when no other thread uses
    /// the cache.
    /// </summary>
    internal string? Invariant(long live)
    {
        long handedOut = 0;
        foreach (KmemCacheNode n in _nodes)
        {
            string? problem = n.Invariant();
            if (problem != null)
                return $"slab cache '{Name}': {problem}";
            handedOut += n.InUseObjects();
        }
        long quarantinedInUse = 0;
        foreach (KmemCacheNode n in _nodes)
            using (n.ListLock.EnterScope())
                for (Slab* s = n.SlabsQuarantined; s != null; s = s->Next)
                    quarantinedInUse += s->InUse;
        long cached = CachedObjects();
        if (handedOut - quarantinedInUse != live + cached - quarantinedInUse && handedOut != live + cached)
            return $"slab cache '{Name}': the slabs have handed out {handedOut} objects; the layers hold {cached} and {live} are allocated";
        return null;
    }
}
