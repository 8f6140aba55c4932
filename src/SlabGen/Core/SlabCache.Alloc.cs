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
    /// a batch from the per-CPU array; or bypass a stolen magazine. When the node has no free object left it grows the
    /// cache by one slab, with no lock held (the ctor may take its time and allocate from other caches), and tries again.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void* AllocSlow()
    {
        ThrowIfDisposed();
        ThrowIfPopulating(nameof(Alloc));
        try
        {
            while (true)
            {
                void* obj = AllocSlowOnce(out int growNode);
                if (obj != null)
                    return obj;
                CacheGrow(growNode);
            }
        }
        finally
        {
            SlabErrors.Flush();
        }
    }

    /// <summary>One try of the slow path; null (and the node to grow) when a slab must be populated first.</summary>
    private void* AllocSlowOnce(out int growNode)
    {
        Magazine* m = OwnMagazine();
        if (m != null)
        {
            Volatile.Write(ref m->InUse, 1);
            try
            {
                if (Volatile.Read(ref m->Tag) == Fast.Tag)
                {
                    void* obj = PopChecked(m);
                    if (obj == null && BarnGetFull(m))
                        obj = PopChecked(m);
                    if (obj != null)
                    {
                        growNode = -1;
                        return obj;
                    }
                    return AllocFromCpu(m, out growNode);
                }
            }
            finally
            {
                Volatile.Write(ref m->InUse, 0);
            }
        }
        return AllocFromCpu(null, out growNode);
    }

    /// <summary>
    /// Pops the top of the caller's own magazine as the fast path does, but first drops every top entry whose object
    /// lost its free mark while it waited there (reported, its slab quarantined). Null when the magazine runs empty.
    /// </summary>
    private void* PopChecked(Magazine* m)
    {
        while (m->Avail > 0)
        {
            void* obj = Magazine.Entry(m)[m->Avail - 1];
            if (TakeIfMarked(obj))
            {
                m->Count += Magazine.OneAlloc;
                return obj;
            }
            m->Avail--;
            m->Out++; // moved out, not served: the free-hit count stays as it was
            QuarantineObject(obj, "in a thread magazine");
        }
        return null;
    }

    /// <summary>Clears <paramref name="obj"/>'s free mark for its new user; false (nothing changed) when the mark is not intact.</summary>
    private bool TakeIfMarked(void* obj)
    {
        ulong* word = Fast.Fp.Word(obj);
        if (*word != Fast.Fp.Key(obj))
            return false;
        *word = 0;
        return true;
    }

    /// <summary>
    /// Takes one object from the current CPU's array (<c>____cache_alloc</c>), refilling the array from the node when
    /// it is empty, and moves up to a batch more into <paramref name="m"/> when given. Null when the node is out of
    /// objects: the caller grows the cache (counted in <see cref="_growing"/> here, under the guard).
    /// </summary>
    private void* AllocFromCpu(Magazine* m, out int growNode)
    {
        growNode = -1;
        CpuSlot* slot = _cpuSlots + _topology.CurrentCpu();
        CpuSlot.Acquire(slot);
        try
        {
            ThrowIfDisposed();
            ArrayCache* ac = slot->Ac;
            bool missed = false;
            void* obj;
            while (true)
            {
                if (ac->Avail == 0)
                {
                    if (!CacheAllocRefill(ac, slot->Node))
                    {
                        // cache_grow_begin runs with preemption enabled: count the grow while the guard still keeps destroy out.
                        Interlocked.Increment(ref _growing);
                        growNode = slot->Node;
                        return null;
                    }
                    missed = true;
                }
                obj = ArrayCache.Entry(ac)[--ac->Avail];
                if (TakeIfMarked(obj))
                    break;
                QuarantineObject(obj, "in a per-CPU array");
            }
            if (missed)
                slot->AllocMiss++;
            else
                slot->AllocHit++;
            ac->Touched = 1;
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
    /// and free slabs. False when the node has no free object: the caller grows the cache. Caller holds the CPU guard.
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
            while (batchCount > 0)
            {
                Slab* slab = GetFirstSlab(n);
                if (slab == null)
                    break;
                batchCount -= AllocBlock(n, ac, slab, batchCount);
                if (slab->List != SlabList.Quarantined)
                    FixupSlabList(n, slab);
            }
        }
        return ac->Avail > 0;
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
    /// (<c>alloc_block</c>): freed objects off the freelist first, then ones never handed out. Every free pointer is
    /// decoded and checked before it is followed (<c>freelist_ptr_decode</c> + <c>check_valid_pointer</c>): a value that
    /// does not name a free object of this slab stops the walk, and the slab is reported and quarantined, so that no
    /// address outside the slab is ever handed out. Caller holds the list lock. Returns the objects moved, which no
    /// longer count among the node's free objects.
    /// </summary>
    private int AllocBlock(KmemCacheNode n, ArrayCache* ac, Slab* slab, int batchCount)
    {
        // The slab's and the array's fields live in locals for the loop: stores through the pointers would otherwise
        // make the JIT reload each of them for every object.
        FreePointer fp = Fast.Fp;
        nint size = _layout.Size;
        int inUse = slab->InUse, objects = slab->Objects;
        if (inUse >= objects)
        {
            // A slab on the partial or free list with no free object: its count is impossible.
            Quarantine(n, slab, SlabErrorKind.CountCorrupt, null, 0,
                $"inuse {inUse} of {objects} objects on the {(slab->List == SlabList.Free ? "free" : "partial")} list");
            return 0;
        }
        int got = Math.Min(batchCount, objects - inUse);
        void** to = ArrayCache.Entry(ac) + ac->Avail;
        byte* freelist = slab->Freelist;
        int i = 0;
        string? damage = null;
        byte* damaged = null;
        ulong found = 0;
        for (; i < got && freelist != null; i++)
        {
            ulong* word = fp.Word(freelist);
            byte* next = (byte*)fp.Decode(freelist, *word);
            if (next == fp.End(freelist))
                next = null;
            else if (next == freelist || !IsFreedObject(slab, next))
            {
                damaged = freelist;
                found = *word;
                damage = "Freechain corrupt";
                break;
            }
            *word = fp.Key(freelist);
            to[i] = freelist;
            freelist = next;
        }
        slab->Freelist = freelist; // on damage, the object that stopped the walk: the report shows it as fp
        if (damage == null && i < got)
        {
            // Objects never handed out, in address order after the last one that was (the freelist is empty). Each
            // still carries the mark CacheGrowBegin gave it, unless a neighbour's overflow or a stray write reached it.
            byte* next = slab->Base + _layout.RedLeftPad + slab->Bump * size;
            int j = i;
            for (; j < got; j++, next += size)
            {
                if (*fp.Word(next) != fp.Key(next))
                {
                    damaged = next;
                    found = *fp.Word(next);
                    damage = "Object overwritten before it was ever handed out";
                    break;
                }
                to[j] = next;
            }
            slab->Bump = (ushort)(slab->Bump + (j - i));
            i = j;
        }
        slab->InUse = (ushort)(inUse + i);
        ac->Avail += i;
        n.FreeObjects -= i;
        if (damage != null)
            Quarantine(n, slab, damage == "Freechain corrupt" ? SlabErrorKind.FreechainCorrupt : SlabErrorKind.ObjectOverwritten,
                damaged, found, damage);
        return i;
    }

    /// <summary>
    /// True when <paramref name="p"/> can be on <paramref name="slab"/>'s freelist: an object start of this slab that
    /// has been handed out at least once (<c>check_valid_pointer</c>, plus the bump index SlabGen keeps).
    /// </summary>
    private bool IsFreedObject(Slab* slab, byte* p)
    {
        nuint off = (nuint)(p - (slab->Base + _layout.RedLeftPad));
        return off < (nuint)slab->Bump * (nuint)_layout.Size && off % (nuint)_layout.Size == 0;
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
    /// Populates one new slab and files it on node <paramref name="nodeId"/>'s free list (<c>cache_grow_begin</c> +
    /// <c>cache_grow_end</c>). Runs with no lock held. The caller counted it in <see cref="_growing"/>; this uncounts it.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The page source has no room for another slab.</exception>
    private void CacheGrow(int nodeId)
    {
        try
        {
            Slab* slab = CacheGrowBegin(nodeId);
            if (slab == null)
                throw new OutOfMemoryException(
                    $"slab cache '{Name}': cannot grow: the page source has no room for another {_layout.SlabBytes}-byte slab.");
            CacheGrowEnd(_nodes[nodeId], slab);
        }
        finally
        {
            Interlocked.Decrement(ref _growing);
        }
    }

    /// <summary>
    /// Takes a block from the page source and makes it a slab (<c>cache_grow_begin</c> + <c>cache_init_objs</c>):
    /// runs the ctor on every object and marks each one free (<see cref="FreePointer.Key"/>), so that a free of an
    /// object never handed out is caught like a double free; objects are then handed out in address order from
    /// <see cref="Slab.Bump"/>. While the ctor runs, this thread's magazine of the cache is hidden from the fast paths
    /// and the slow paths refuse, so a ctor that re-enters its own cache gets an exception instead of recursing.
    /// </summary>
    private Slab* CacheGrowBegin(int nodeId)
    {
        Slab* slab = PageSource.AllocBlock(_pages);
        if (slab == null)
            return null;
        int num = _layout.ObjectsPerSlab, size = _layout.Size;
        byte* first = slab->Base + _layout.RedLeftPad;
        FreePointer fp = Fast.Fp;
        if (_ctor != null)
        {
            SlabCache? outer = t_populating;
            nint* table = ThreadMagazines.t_table;
            nint hidden = table != null ? table[Fast.Slot] : 0;
            if (hidden != 0)
                table[Fast.Slot] = 0;
            t_populating = this;
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
            finally
            {
                t_populating = outer;
                if (hidden != 0)
                    ThreadMagazines.t_table[Fast.Slot] = hidden;
            }
        }
        for (int i = 0; i < num; i++)
        {
            byte* obj = first + (nint)i * size;
            *fp.Word(obj) = fp.Key(obj);
        }
        slab->Freelist = null;
        slab->Bump = 0;
        slab->Objects = (ushort)num;
        slab->Node = (ushort)nodeId;
        Interlocked.Increment(ref _grown);
        return slab;
    }

    /// <summary>Publishes a new slab's pages as this cache's and files it on its node's free list (<c>cache_grow_end</c>).</summary>
    private void CacheGrowEnd(KmemCacheNode n, Slab* slab)
    {
        PageSource.Publish(_pages, slab);
        using (n.ListLock.EnterScope())
        {
            n.ListAdd(slab, SlabList.Free);
            n.FreeObjects += slab->Objects;
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
