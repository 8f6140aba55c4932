using System;
using SlabGen.Core;
using SlabGen.Policy;

namespace SlabGen;

// do_tune_cpucache, enable_cpucache and alloc_kmemlist.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// Re-tunes the per-CPU arrays (<c>do_tune_cpucache</c>). Builds every new array first and, if any allocation
    /// fails, leaves the cache exactly as it was; then swaps them in CPU by CPU, drains the old ones and each
    /// thread's magazine back to the slabs, and rebuilds each node's shared array and <c>free_limit</c>. Safe while
    /// other threads allocate and free. The numbers then stay: the cache no longer resizes its magazines to the load
    /// (<see cref="AutoTuned"/> becomes false).
    /// </summary>
    /// <exception cref="ArgumentException">Out of range: 1 &lt;= batchCount &lt;= limit &lt;= 4096, 0 &lt;= sharedFactor &lt;= 64.</exception>
    /// <exception cref="OutOfMemoryException">The new arrays could not be allocated; nothing changed.</exception>
    public void Tune(int limit, int batchCount, int sharedFactor)
    {
        var t = new Tunables(limit, batchCount, sharedFactor);
        t.Validate(Name);
        ThrowIfPopulating(nameof(Tune));
        bool ok;
        using (CacheChain.Enter())
        {
            ThrowIfDisposed();
            ok = TryInstallArrays(t);
            if (ok)
                _tuner.Pin(); // the caller's numbers stay: load no longer resizes the magazines
        }
        SlabErrors.Flush();
        if (!ok)
            throw new OutOfMemoryException(
                $"slab cache '{Name}': cannot allocate arrays for limit {limit}, batchcount {batchCount}, shared {sharedFactor}; the cache is unchanged.");
    }

    /// <summary>Gives the cache the arrays <c>enable_cpucache</c>'s table picks for its size (<c>kmem_cache_init_late</c> calls this).</summary>
    internal void EnableCpuCache()
    {
        if (!TryInstallArrays(Tunables.ForSize(_layout.Size, _topology.CpuCount)))
            throw new OutOfMemoryException($"slab cache '{Name}': cannot allocate its tuned per-CPU arrays.");
    }

    /// <summary>
    /// The body of <c>do_tune_cpucache</c> + <c>alloc_kmemlist</c>; false (and nothing changed) when an array could not
    /// be allocated. Caller holds the chain mutex.
    /// </summary>
    private bool TryInstallArrays(Tunables t)
    {
        int cpus = _topology.CpuCount;
        var newCpu = new nint[cpus];
        var newShared = new nint[_nodes.Length];
        var newDepot = new nint[_nodes.Length];
        bool ok = true;
        for (int cpu = 0; cpu < cpus && ok; cpu++)
            ok = (newCpu[cpu] = (nint)ArrayCache.Create(t.Limit, t.BatchCount)) != 0;
        for (int node = 0; node < _nodes.Length && ok && t.SharedFactor > 0; node++)
            ok = (newShared[node] = (nint)ArrayCache.Create(t.SharedFactor * t.BatchCount, ArrayCache.SharedBatchCount)) != 0;
        for (int node = 0; node < _nodes.Length && ok; node++)
            ok = (newDepot[node] = (nint)Depot.Create(t.Limit)) != 0;
        if (!ok)
        {
            foreach (nint ac in newCpu)
                ArrayCache.Destroy((ArrayCache*)ac);
            foreach (nint ac in newShared)
                ArrayCache.Destroy((ArrayCache*)ac);
            foreach (nint d in newDepot)
                Depot.Destroy((Depot*)d);
            return false;
        }

        // Nothing below can fail. New magazines take the new limit; the old ones are drained (but for an entry an
        // owner's operation in flight may be using, which the owner gives back) and retired. A new magazine may meet
        // an old depot until its node's is replaced below: of another size, they do not trade; of the same size, what
        // they trade is drained with the old depot.
        using (_magazines.Enter())
        {
            _tunables = t;
            _magazines.Steal(all: true, retire: true);
        }
        for (int node = 0; node < _nodes.Length; node++)
            Depot.Destroy(_nodes[node].ReplaceDepot((Depot*)newDepot[node]));

        // do_ccupdate_local: swap each CPU's array under its guard, then drain the old one to the slabs.
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            CpuSlot* slot = _cpuSlots + cpu;
            ArrayCache* old;
            using (CpuSlot.Enter(slot))
            {
                old = slot->Ac;
                slot->Ac = (ArrayCache*)newCpu[cpu];
            }
            if (old != null)
            {
                FreeToNodes(ArrayCache.Entry(old), old->Avail);
                ArrayCache.Destroy(old);
            }
        }

        // alloc_kmemlist: each node's shared array and free_limit.
        foreach (KmemCacheNode n in _nodes)
            ArrayCache.Destroy(n.ReplaceShared((ArrayCache*)newShared[n.Id], (1L + n.CpusOnNode) * t.BatchCount + _layout.ObjectsPerSlab));
        return true;
    }

    /// <summary>Frees every per-CPU and shared array and every depot (all must be drained). Used by destroy and failed creation.</summary>
    private void FreeArrays()
    {
        for (int cpu = 0; cpu < _topology.CpuCount; cpu++)
        {
            ArrayCache.Destroy(_cpuSlots[cpu].Ac);
            _cpuSlots[cpu].Ac = null;
        }
        foreach (KmemCacheNode n in _nodes)
        {
            ArrayCache.Destroy(n.Shared);
            n.Shared = null;
            Depot.Destroy(n.ReplaceDepot(null));
        }
    }
}
