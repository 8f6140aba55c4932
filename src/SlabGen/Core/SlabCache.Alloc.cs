using System;
using System.Runtime.CompilerServices;
using System.Threading;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

// The allocation slow path: magazine refill, the per-CPU array, cache_alloc_refill and cache_grow.
public sealed unsafe partial class SlabCache
{
    /// <summary><c>BATCHREFILL_LIMIT</c>: an untouched array refills at most this many objects at a time.</summary>
    private const int BatchRefillLimit = 16;

    /// <summary>
    /// The allocation slow path: refill this thread's empty magazine with a full sheaf from the node's barn, else with
    /// a batch from the per-CPU array; or bypass a stolen magazine.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void* AllocSlow()
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
                    if (m->Avail > 0 || BarnGetFull(m))
                    {
                        void* obj = Magazine.Entry(m)[m->Avail - 1];
                        m->Count += Magazine.OneAlloc;
                        return obj;
                    }
                    return AllocFromCpu(m);
                }
            }
            finally
            {
                Volatile.Write(ref m->InUse, 0);
            }
        }
        return AllocFromCpu(null);
    }

    /// <summary>
    /// Takes one object from the current CPU's array (<c>____cache_alloc</c>), refilling the array from the node when
    /// it is empty, and moves up to a batch more into <paramref name="m"/> when given.
    /// </summary>
    private void* AllocFromCpu(Magazine* m)
    {
        CpuSlot* slot = _cpuSlots + _topology.CurrentCpu();
        CpuSlot.Acquire(slot);
        try
        {
            ThrowIfDisposed();
            ArrayCache* ac = slot->Ac;
            if (ac->Avail > 0)
                slot->AllocHit++;
            else
            {
                if (!CacheAllocRefill(ac, slot->Node))
                    throw new OutOfMemoryException(
                        $"slab cache '{Name}': cannot grow: the page source has no room for another {_layout.SlabBytes}-byte slab.");
                slot->AllocMiss++;
            }
            ac->Touched = 1;
            void* obj = ArrayCache.Entry(ac)[--ac->Avail];
            if (m != null)
            {
                int n = Math.Min(ac->Avail, Math.Min(ac->BatchCount, m->Limit - m->Avail));
                new ReadOnlySpan<nint>(ArrayCache.Entry(ac) + ac->Avail - n, n).CopyTo(new Span<nint>(Magazine.Entry(m) + m->Avail, n));
                ac->Avail -= n;
                m->Avail += n;
                m->In += n;
            }
            return obj;
        }
        finally
        {
            CpuSlot.Release(slot);
        }
    }

    /// <summary>
    /// Refills an empty per-CPU array (<c>cache_alloc_refill</c>): from the node's shared array, then its partial
    /// and free slabs, then a new slab. False when the page source is out of room. Caller holds the CPU guard.
    /// </summary>
    private bool CacheAllocRefill(ArrayCache* ac, int nodeId)
    {
        int batchCount = ac->BatchCount;
        if (ac->Touched == 0 && batchCount > BatchRefillLimit)
            batchCount = BatchRefillLimit;
        KmemCacheNode n = _nodes[nodeId];
        using (n.ListLock.EnterScope())
        {
            if (n.Shared != null && ArrayCache.Transfer(ac, n.Shared, batchCount) > 0)
            {
                n.Shared->Touched = 1;
                return true;
            }
            int taken = 0;
            while (batchCount > 0)
            {
                Slab* slab = GetFirstSlab(n);
                if (slab == null)
                    break;
                int got = AllocBlock(ac, slab, batchCount);
                batchCount -= got;
                taken += got;
                FixupSlabList(n, slab);
            }
            n.FreeObjects -= taken;
        }
        if (ac->Avail > 0)
            return true;

        // direct_grow
        Slab* grown = CacheGrowBegin(nodeId);
        if (grown == null)
            return false;
        AllocBlock(ac, grown, batchCount);
        CacheGrowEnd(n, grown);
        return true;
    }

    /// <summary>A slab to allocate from: partial first, then free (<c>get_first_slab</c>).</summary>
    private static Slab* GetFirstSlab(KmemCacheNode n)
    {
        if (n.SlabsPartial != null)
            return n.SlabsPartial;
        if (n.SlabsFree != null)
        {
            n.FreeTouched = true;
            return n.SlabsFree;
        }
        return null;
    }

    /// <summary>
    /// Moves up to <paramref name="batchCount"/> objects of <paramref name="slab"/> into <paramref name="ac"/>
    /// (<c>alloc_block</c>): freed objects off the freelist first, then ones never handed out.
    /// </summary>
    private int AllocBlock(ArrayCache* ac, Slab* slab, int batchCount)
    {
        // The slab's and the array's fields live in locals for the loop: stores through the pointers would otherwise
        // make the JIT reload each of them for every object.
        int offset = _layout.Offset;
        nint size = _layout.Size;
        int got = Math.Min(batchCount, slab->Objects - slab->InUse);
        void** to = ArrayCache.Entry(ac) + ac->Avail;
        byte* freelist = slab->Freelist;
        int i = 0;
        for (; i < got && freelist != null; i++)
        {
            to[i] = freelist;
            freelist = *(byte**)(freelist + offset);
        }
        slab->Freelist = freelist;
        if (i < got)
        {
            // Objects never handed out, in address order after the last one that was (the freelist is empty).
            byte* next = slab->Base + _layout.RedLeftPad + slab->Bump * size;
            for (int j = i; j < got; j++, next += size)
                to[j] = next;
            slab->Bump = (ushort)(slab->Bump + (got - i));
        }
        slab->InUse = (ushort)(slab->InUse + got);
        ac->Avail += got;
        return got;
    }

    /// <summary>Re-files <paramref name="slab"/> as full or partial after objects were taken (<c>fixup_slab_list</c>).</summary>
    private static void FixupSlabList(KmemCacheNode n, Slab* slab)
    {
        SlabList list = slab->InUse == slab->Objects ? SlabList.Full : SlabList.Partial;
        if (slab->List != list)
        {
            n.ListDel(slab);
            n.ListAdd(slab, list);
        }
    }

    /// <summary>
    /// Takes a block from the page source and makes it a slab (<c>cache_grow_begin</c> + <c>cache_init_objs</c>):
    /// runs the ctor on every object; objects are then handed out in address order from <see cref="Slab.Bump"/>.
    /// </summary>
    private Slab* CacheGrowBegin(int nodeId)
    {
        Slab* slab = PageSource.AllocBlock(_pages);
        if (slab == null)
            return null;
        int num = _layout.ObjectsPerSlab, size = _layout.Size;
        byte* first = slab->Base + _layout.RedLeftPad;
        if (_ctor != null)
        {
            try
            {
                for (int i = 0; i < num; i++)
                    _ctor(first + (nint)i * size);
            }
            catch
            {
                PageSource.FreeBlock(_pages, slab);
                throw;
            }
        }
        slab->Freelist = null;
        slab->Bump = 0;
        slab->Objects = (ushort)num;
        slab->Node = (ushort)nodeId;
        Interlocked.Increment(ref _grown);
        return slab;
    }

    /// <summary>Files a new slab on its node's lists (<c>cache_grow_end</c>).</summary>
    private static void CacheGrowEnd(KmemCacheNode n, Slab* slab)
    {
        using (n.ListLock.EnterScope())
        {
            n.ListAdd(slab, slab->InUse == 0 ? SlabList.Free : slab->InUse == slab->Objects ? SlabList.Full : SlabList.Partial);
            n.FreeObjects += slab->Objects - slab->InUse;
        }
    }

    /// <summary>
    /// This thread's magazine for the cache, made on first use; null while a stealer holds it. A retired magazine gives
    /// back what the stealer left in it and is replaced; a dead one (left by an earlier cache in this slot) is freed
    /// and replaced.
    /// </summary>
    private Magazine* OwnMagazine()
    {
        Magazine* old = ThreadMagazines.Get(Fast.Slot);
        if (old != null)
        {
            int tag = Volatile.Read(ref old->Tag);
            if (tag == Fast.Tag)
                return old;
            if (tag == (Fast.Tag | Magazine.LockedBit))
                return null;
        }
        Magazine* m = null;
        lock (_magazineLock)
        {
            if (old != null && Volatile.Read(ref old->Tag) == (Fast.Tag | Magazine.RetiredBit))
                ReleaseMagazine(old);
            if (!_disposed)
            {
                m = Magazine.Create(Fast.Tag, _tunables.Limit);
                _magazines.Add(((nint)m, Thread.CurrentThread));
            }
        }
        if (old != null)
            ThreadMagazines.Remove(Fast.Slot);
        if (m != null)
            ThreadMagazines.Install(this, m);
        return m;
    }
}
