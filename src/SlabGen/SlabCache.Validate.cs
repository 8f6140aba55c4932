using System;
using System.Collections.Generic;
using SlabGen.Core;

namespace SlabGen;

// validate_slab_cache (what slabinfo -v triggers) and the walk of a cache's allocated objects.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// Checks every slab of the cache (<c>validate_slab_cache</c>, what <c>slabinfo -v</c> triggers) as far as its flags
    /// allow, reports each problem in the kernel's form (to <see cref="SlabAllocator.ErrorWriter"/> and as
    /// <see cref="SlabAllocator.ErrorReported"/>) and returns how many it found. Every cache gets the list counts, each
    /// slab's count and the free pointers and marks the default configuration keeps (a damaged slab is quarantined, as
    /// the default paths would). A debug cache also gets every object checked, free or allocated: red zones (Z),
    /// poison and padding (P), the kmalloc red zone, and its free pointer; damage is repaired as SLUB repairs it.
    /// </summary>
    /// <remarks>
    /// Safe while other threads use the cache: each node's lists are read under its list lock, then each slab is checked
    /// under the list lock taken for that slab alone. Holds the chain mutex meanwhile (creating, destroying, tuning and
    /// shrinking caches wait; allocations and frees do not). Objects in thread magazines, depots and per-CPU arrays are free but
    /// counted in use by their slabs, as the default paths count them; they are checked when they are next handed out.
    /// </remarks>
    /// <returns>The problems found (0 when the cache is intact).</returns>
    public int Validate()
    {
        ThrowIfPopulating(nameof(Validate));
        int errors = 0;
        try
        {
            using (CacheChain.Enter()) // destroy cannot give the slabs back under the walk
            {
                ThrowIfDisposed();
                foreach (KmemCacheNode n in _nodes)
                    errors += n.Validate();
            }
        }
        finally
        {
            SlabErrors.Flush();
        }
        return errors;
    }

    /// <summary>
    /// The objects of the cache allocated now, up to <paramref name="limit"/> of them, each with its address, the size a
    /// kmalloc request asked for, and, for a <see cref="SlabFlags.StoreUser"/> cache, the stack, thread, CPU and age of
    /// its allocation (without U, <see cref="SlabLiveObject.Allocated"/> is null: only the addresses are known). Objects
    /// held by thread magazines, depots and per-CPU arrays are free and not listed. Exact when no other thread uses the
    /// cache; objects allocated or freed meanwhile may or may not be listed.
    /// </summary>
    public IReadOnlyList<SlabLiveObject> GetLiveObjects(int limit = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var live = new List<KmemCacheNode.LiveObject>();
        long total = 0;
        using (CacheChain.Enter()) // destroy cannot give the slabs back under the walk
        {
            ThrowIfDisposed();
            foreach (KmemCacheNode n in _nodes)
                n.CollectLive(live, limit, ref total);
        }
        long now = Environment.TickCount64;
        bool tracked = (Flags & SlabFlags.StoreUser) != 0;
        var result = new SlabLiveObject[live.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = new SlabLiveObject(live[i].Address, live[i].RequestedSize, tracked ? live[i].Allocated.ToSlabTrack(now) : null);
        return result;
    }
}
