using System;
using System.Runtime.CompilerServices;
using System.Threading;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

// The free slow path: magazine flush, the per-CPU array, cache_flusharray, free_block and slab destruction.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// The free slow path: hand this thread's full magazine to the node's barn as one sheaf, else flush its oldest
    /// batch to the per-CPU array; or bypass a stolen magazine.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void FreeSlow(void* obj)
    {
        ThrowIfDisposed();
        Magazine* m = OwnMagazine();
        if (m != null)
        {
            Volatile.Write(ref m->InUse, 1);
            try
            {
                if (Volatile.Read(ref m->Tag) == Fast.Tag)
                {
                    if (m->Avail == m->Limit && !BarnPutFull(m))
                    {
                        // The oldest batch goes down a layer; the CPU counters record this free as a hit or a miss.
                        int batch = Math.Min(m->Avail, _tunables.BatchCount);
                        FreeToCpu(Magazine.Entry(m), batch);
                        int avail = m->Avail;
                        ArrayCache.RemoveOldest(Magazine.Entry(m), ref avail, batch);
                        m->Avail = avail;
                        m->Out += batch;
                        m->In++; // counted at the CPU, not as a magazine hit
                    }
                    Magazine.Entry(m)[m->Avail++] = obj;
                    return;
                }
            }
            finally
            {
                Volatile.Write(ref m->InUse, 0);
            }
        }
        FreeToCpu(&obj, 1);
    }

    /// <summary>
    /// Puts <paramref name="count"/> objects into the current CPU's array (<c>__cache_free</c>), flushing a batch of
    /// it first when they would not fit (<c>cache_flusharray</c>). Objects of another node go straight back to
    /// their own node's lists, the job of the kernel's alien caches.
    /// </summary>
    private void FreeToCpu(void** objs, int count)
    {
        CpuSlot* slot = _cpuSlots + _topology.CurrentCpu();
        CpuSlot.Acquire(slot);
        try
        {
            ThrowIfDisposed();
            int node = slot->Node;
            if (_nodes.Length > 1)
            {
                int remote = count - PartitionLocal(objs, count, node);
                if (remote > 0)
                {
                    slot->RemoteFrees += remote;
                    FreeToNodes(objs + count - remote, remote);
                    count -= remote;
                }
            }
            ArrayCache* ac = slot->Ac;
            if (ac->Avail + count > ac->Limit)
            {
                slot->FreeMiss++;
                while (ac->Avail + count > ac->Limit && ac->Avail > 0)
                    CacheFlushArray(ac, node);
                // A batch larger than the whole array (a magazine filled before a Tune shrank the arrays) goes
                // straight to the slabs.
                int fit = Math.Min(count, ac->Limit - ac->Avail);
                if (fit < count)
                    FreeToNodes(objs + fit, count - fit);
                count = fit;
            }
            else
                slot->FreeHit++;
            new ReadOnlySpan<nint>(objs, count).CopyTo(new Span<nint>(ArrayCache.Entry(ac) + ac->Avail, count));
            ac->Avail += count;
        }
        finally
        {
            CpuSlot.Release(slot);
        }
    }

    /// <summary>Reorders <paramref name="objs"/> so objects of <paramref name="node"/> come first; returns how many there are.</summary>
    private int PartitionLocal(void** objs, int count, int node)
    {
        int local = 0;
        for (int i = 0; i < count; i++)
        {
            if (SlabOf(objs[i])->Node == node)
            {
                void* keep = objs[i];
                objs[i] = objs[local];
                objs[local++] = keep;
            }
        }
        return local;
    }

    /// <summary>
    /// Flushes the oldest batch of a full per-CPU array (<c>cache_flusharray</c>): into the node's shared array if it
    /// has room, else back to the slabs. Caller holds the CPU guard.
    /// </summary>
    private void CacheFlushArray(ArrayCache* ac, int nodeId)
    {
        int batchCount = Math.Min(ac->BatchCount, ac->Avail);
        KmemCacheNode n = _nodes[nodeId];
        Slab* destroy = null;
        using (n.ListLock.EnterScope())
        {
            ArrayCache* shared = n.Shared;
            int room = shared != null ? shared->Limit - shared->Avail : 0;
            if (room > 0)
            {
                batchCount = Math.Min(batchCount, room);
                new ReadOnlySpan<nint>(ArrayCache.Entry(ac), batchCount).CopyTo(new Span<nint>(ArrayCache.Entry(shared) + shared->Avail, batchCount));
                shared->Avail += batchCount;
            }
            else
                FreeBlock(n, ArrayCache.Entry(ac), batchCount, ref destroy);
        }
        SlabsDestroy(destroy);
        ArrayCache.RemoveOldest(ArrayCache.Entry(ac), ref ac->Avail, batchCount);
    }

    /// <summary>
    /// Returns objects to their slabs (<c>free_block</c>) and files each slab as partial or free; free slabs beyond
    /// <c>free_limit</c> are chained on <paramref name="destroy"/> for the page source. Caller holds the list lock;
    /// every object belongs to node <paramref name="n"/>.
    /// </summary>
    private void FreeBlock(KmemCacheNode n, void** objs, int count, ref Slab* destroy)
    {
        int offset = _layout.Offset;
        n.FreeObjects += count;
        for (int i = 0; i < count; i++)
        {
            byte* obj = (byte*)objs[i];
            Slab* slab = SlabOf(obj);
            *(byte**)(obj + offset) = slab->Freelist;
            slab->Freelist = obj;
            slab->InUse--;
            // Re-file the slab only when its list changes: full -> partial, or -> free.
            SlabList list = slab->InUse == 0 ? SlabList.Free : SlabList.Partial;
            if (slab->List != list)
            {
                n.ListDel(slab);
                n.ListAdd(slab, list);
            }
        }
        while (n.FreeObjects > n.FreeLimit && n.SlabsFree != null)
            DetachFreeSlab(n, ref destroy);
    }

    /// <summary>Takes the first free slab off <paramref name="n"/>'s lists onto <paramref name="destroy"/>. Caller holds the list lock.</summary>
    private void DetachFreeSlab(KmemCacheNode n, ref Slab* destroy)
    {
        Slab* slab = n.SlabsFree;
        n.ListDel(slab);
        n.FreeObjects -= slab->Objects;
        slab->Frozen = 1;
        slab->Next = destroy;
        destroy = slab;
    }

    /// <summary>Gives detached slabs back to the page source (<c>slabs_destroy</c>); returns how many.</summary>
    private int SlabsDestroy(Slab* list)
    {
        int freed = 0;
        while (list != null)
        {
            Slab* next = list->Next;
            PageSource.FreeBlock(_pages, list);
            list = next;
            freed++;
        }
        return freed;
    }

    /// <summary>Returns objects of any nodes straight to their slabs, one list lock per node (<c>free_block</c> per node).</summary>
    private void FreeToNodes(void** objs, int count)
    {
        while (count > 0)
        {
            int node = SlabOf(objs[0])->Node;
            int mine = _nodes.Length > 1 ? PartitionLocal(objs, count, node) : count;
            KmemCacheNode n = _nodes[node];
            Slab* destroy = null;
            using (n.ListLock.EnterScope())
                FreeBlock(n, objs, mine, ref destroy);
            SlabsDestroy(destroy);
            objs += mine;
            count -= mine;
        }
    }

    /// <summary>The slab descriptor of one of this cache's objects (<c>virt_to_slab</c>).</summary>
    private Slab* SlabOf(void* obj) => PageSource.VirtToSlab(obj, _layout.Order);
}
