using System.Collections.Generic;
using System.Diagnostics;
using SlabGen.PageAlloc;

namespace SlabGen.Core;

/// <summary>
/// Purpose: one node's slab lists (<c>struct kmem_cache_node</c>, once <c>kmem_list3</c>): partial, full and free
/// slabs, and the quarantine, under <see cref="ListLock"/>; the count of free objects in them; the limit above which
/// free slabs go back to the page source; the node's shared array cache. Beside them, under a lock of its own, the
/// node's depot of full magazines (<c>KmemCacheNode.Depot.cs</c>). Every operation on the lists is here, and each
/// says whether its caller holds <see cref="ListLock"/> (checked in debug builds, as the kernel's
/// <c>check_spinlock_acquired_node</c>).
/// </summary>
internal sealed unsafe partial class KmemCacheNode(SlabCache cache, int id, int cpusOnNode)
{
    /// <summary>The cache this node's lists belong to (the kernel passes <c>cachep</c> to every list function).</summary>
    public readonly SlabCache Cache = cache;

    public readonly int Id = id;
    public readonly int CpusOnNode = cpusOnNode;

    /// <summary><c>list_lock</c>: guards the lists, their counts, <see cref="FreeObjects"/>, <see cref="FreeLimit"/>, <see cref="Shared"/> and <see cref="FreeTouched"/>.</summary>
    public readonly RawSpinLock ListLock = new(LockOrder.Level.ListLock);

    public Slab* SlabsPartial;
    public Slab* SlabsFull;
    public Slab* SlabsFree;

    /// <summary>Slabs found damaged: never allocated from, kept until the cache is destroyed (<see cref="SlabList.Quarantined"/>).</summary>
    public Slab* SlabsQuarantined;
    public int NrPartial;
    public int NrFull;
    public int NrFree;
    public int NrQuarantined;

    /// <summary>Free objects in this node's partial and free slabs (not counting objects cached in arrays).</summary>
    public long FreeObjects;

    /// <summary><c>free_limit = (1 + cpus_on_node) * batchcount + objects_per_slab</c>.</summary>
    public long FreeLimit;

    /// <summary>The node's shared array (<c>shared * batchcount</c> entries), or null when the shared factor is 0.</summary>
    public ArrayCache* Shared;

    /// <summary>Set when a free slab was taken for allocation; the reaper leaves free slabs alone for one pass.</summary>
    public bool FreeTouched;

    /// <summary>Guards <see cref="Depot"/> and its counters. Taken before <see cref="ListLock"/> when both are held, never after it.</summary>
    public readonly RawSpinLock DepotLock = new(LockOrder.Level.DepotLock);

    /// <summary>The node's depot of full magazines, or null before the cache's arrays are tuned and after destroy.</summary>
    public Depot* Depot;

    /// <summary>Full magazines taken from and given to the depot (SLUB's <c>barn_get</c> and <c>barn_put</c> stats).</summary>
    public long DepotGet, DepotPut;

    /// <summary>
    /// SLAB's STATS for the statistics variant of slabinfo, kept under the list lock: objects handed out of the slabs
    /// (<c>num_allocations</c>), the most objects in use at once (<c>high_mark</c>), the most free objects the slabs held
    /// (<c>max_freeable</c>).
    /// </summary>
    public long ListAllocs, HighMark, MaxFreeable;

    public int TotalSlabs => NrPartial + NrFull + NrFree + NrQuarantined;

    private ref readonly SlabLayout Layout => ref Cache.Layout;

    /// <summary>Puts <paramref name="slab"/> at the head of list <paramref name="list"/> (<c>list_add</c>). Caller holds the list lock.</summary>
    public void ListAdd(Slab* slab, SlabList list)
    {
        ListLock.AssertHeld();
        ref Slab* head = ref Head(list);
        slab->Prev = null;
        slab->Next = head;
        if (head != null)
            head->Prev = slab;
        head = slab;
        slab->List = list;
        Count(list)++;
    }

    /// <summary>Takes <paramref name="slab"/> off whatever list it is on (<c>list_del</c>). Caller holds the list lock.</summary>
    public void ListDel(Slab* slab)
    {
        ListLock.AssertHeld();
        if (slab->Prev != null)
            slab->Prev->Next = slab->Next;
        else
            Head(slab->List) = slab->Next;
        if (slab->Next != null)
            slab->Next->Prev = slab->Prev;
        Count(slab->List)--;
        slab->Next = slab->Prev = null;
        slab->List = SlabList.None;
    }

    private ref Slab* Head(SlabList list)
    {
        if (list == SlabList.Partial)
            return ref SlabsPartial;
        if (list == SlabList.Full)
            return ref SlabsFull;
        if (list == SlabList.Quarantined)
            return ref SlabsQuarantined;
        return ref SlabsFree;
    }

    private ref int Count(SlabList list)
    {
        if (list == SlabList.Partial)
            return ref NrPartial;
        if (list == SlabList.Full)
            return ref NrFull;
        if (list == SlabList.Quarantined)
            return ref NrQuarantined;
        return ref NrFree;
    }

    /// <summary>A slab to allocate from: partial first, then free (<c>get_first_slab</c>). Caller holds the list lock.</summary>
    private Slab* GetFirstSlab()
    {
        ListLock.AssertHeld();
        if (SlabsPartial != null)
            return SlabsPartial;
        if (SlabsFree != null)
        {
            FreeTouched = true;
            return SlabsFree;
        }
        return null;
    }

    /// <summary>
    /// The node's half of <c>cache_alloc_refill</c>: moves up to <paramref name="batchCount"/> objects into
    /// <paramref name="ac"/> from the shared array, else from partial then free slabs. False when the node has no free
    /// object: the cache grows. Takes the list lock; the caller holds the array's CPU guard.
    /// </summary>
    public bool Refill(ArrayCache* ac, int batchCount)
    {
        using (ListLock.EnterScope())
        {
            if (Shared != null && ArrayCache.Transfer(ac, Shared, batchCount) > 0)
            {
                Shared->Touched = 1;
                return true;
            }
            while (batchCount > 0)
            {
                Slab* slab = GetFirstSlab();
                if (slab == null)
                    break;
                batchCount -= AllocBlock(ac, slab, batchCount);
                if (slab->List != SlabList.Quarantined)
                    FixupSlabList(slab);
            }
        }
        return ac->Avail > 0;
    }

    /// <summary>
    /// Moves up to <paramref name="batchCount"/> objects of <paramref name="slab"/> into <paramref name="ac"/>
    /// (<c>alloc_block</c>): freed objects off the freelist first, then ones never handed out. Every free pointer is
    /// decoded and checked before it is followed (<c>freelist_ptr_decode</c> + <c>check_valid_pointer</c>): a value that
    /// does not name a free object of this slab stops the walk, and the slab is reported and quarantined, so that no
    /// address outside the slab is ever handed out. Returns the objects moved, which no longer count among the node's
    /// free objects. Caller holds the list lock.
    /// </summary>
    private int AllocBlock(ArrayCache* ac, Slab* slab, int batchCount)
    {
        ListLock.AssertHeld();
        // The slab's and the array's fields live in locals for the loop: stores through the pointers would otherwise
        // make the JIT reload each of them for every object.
        FreePointer fp = Cache.Fast.Fp;
        nint size = Layout.Size;
        int inUse = slab->InUse, objects = slab->Objects;
        if (inUse >= objects)
        {
            // A slab on the partial or free list with no free object: its count is impossible.
            Quarantine(slab, SlabErrorKind.CountCorrupt, null, 0,
                $"inuse {inUse} of {objects} objects on the {(slab->List == SlabList.Free ? "free" : "partial")} list");
            return 0;
        }
        int got = System.Math.Min(batchCount, objects - inUse);
        void** to = ArrayCache.Entry(ac) + ac->Avail;
        byte* freelist = slab->Freelist;
        int i = 0;
        SlabErrorKind damage = default;
        string? what = null;
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
                (damage, what, found) = (SlabErrorKind.FreechainCorrupt, "Freechain corrupt", *word);
                damaged = freelist;
                break;
            }
            *word = fp.Key(freelist);
            to[i] = freelist;
            freelist = next;
        }
        slab->Freelist = freelist; // on damage, the object that stopped the walk: the report shows it as fp
        if (what == null && i < got)
        {
            // Objects never handed out, in address order after the last one that was (the freelist is empty). Each
            // still carries the mark CacheGrowBegin gave it, unless a neighbour's overflow or a stray write reached it.
            byte* next = slab->Base + Layout.RedLeftPad + slab->Bump * size;
            int j = i;
            for (; j < got; j++, next += size)
            {
                if (*fp.Word(next) != fp.Key(next))
                {
                    (damage, what, found) = (SlabErrorKind.ObjectOverwritten, "Object overwritten before it was ever handed out", *fp.Word(next));
                    damaged = next;
                    break;
                }
                to[j] = next;
            }
            slab->Bump = (ushort)(slab->Bump + (j - i));
            i = j;
        }
        slab->InUse = (ushort)(inUse + i);
        ac->Avail += i;
        FreeObjects -= i;
        CountListAllocs(i);
        if (what != null)
            Quarantine(slab, damage, damaged, found, what);
        return i;
    }

    /// <summary>
    /// True when <paramref name="p"/> can be on <paramref name="slab"/>'s freelist: an object start of this slab that
    /// has been handed out at least once (<c>check_valid_pointer</c>, plus the bump index SlabGen keeps).
    /// </summary>
    public bool IsFreedObject(Slab* slab, byte* p)
    {
        return Layout.IsSlotBelow((nuint)(p - (slab->Base + Layout.RedLeftPad)), slab->Bump);
    }

    /// <summary>Re-files <paramref name="slab"/> as full or partial after objects were taken (<c>fixup_slab_list</c>). Caller holds the list lock.</summary>
    private void FixupSlabList(Slab* slab)
    {
        SlabList list = slab->InUse == slab->Objects ? SlabList.Full : SlabList.Partial;
        if (slab->List != list)
        {
            ListDel(slab);
            ListAdd(slab, list);
        }
    }

    /// <summary>Files a new, wholly free slab (<c>cache_grow_end</c>). Takes the list lock.</summary>
    public void FileNewSlab(Slab* slab)
    {
        using (ListLock.EnterScope())
        {
            ListAdd(slab, SlabList.Free);
            FreeObjects += slab->Objects;
        }
    }

    /// <summary>
    /// Returns objects to their slabs (<c>free_block</c>) and files each slab as partial or free; free slabs beyond
    /// <c>free_limit</c> are chained on <paramref name="destroy"/> for <see cref="SlabsDestroy"/>. Each object must still
    /// carry the mark it got when it was freed: one that does not (overwritten while cached, or a second copy of an
    /// object already back), or a slab whose count would go below zero, is reported and its slab quarantined. Every
    /// object belongs to this node. Caller holds the list lock.
    /// </summary>
    public void FreeBlock(void** objs, int count, ref Slab* destroy)
    {
        ListLock.AssertHeld();
        FreePointer fp = Cache.Fast.Fp;
        int order = Layout.Order;
        for (int i = 0; i < count; i++)
        {
            byte* obj = (byte*)objs[i];
            Slab* slab = PageSource.VirtToSlab(obj, order);
            ulong* word = fp.Word(obj);
            if (*word != fp.Key(obj) || slab->InUse == 0 || slab->List == SlabList.Quarantined)
            {
                FreeBlockDamaged(slab, obj, *word);
                continue;
            }
            LinkFree(slab, obj, word, fp);
        }
        if (FreeObjects > MaxFreeable)
            MaxFreeable = FreeObjects;
        while (FreeObjects > FreeLimit && SlabsFree != null)
            DetachFreeSlab(ref destroy);
    }

    /// <summary>
    /// Puts a checked object back on its slab's freelist (the body of <c>free_block</c>'s loop) and re-files the slab
    /// only when its list changes: full to partial, or to free. Caller holds the list lock.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void LinkFree(Slab* slab, byte* obj, ulong* word, in FreePointer fp)
    {
        *word = fp.Encode(obj, slab->Freelist != null ? slab->Freelist : fp.End(obj));
        slab->Freelist = obj;
        slab->InUse--;
        FreeObjects++;
        SlabList list = slab->InUse == 0 ? SlabList.Free : SlabList.Partial;
        if (slab->List != list)
        {
            ListDel(slab);
            ListAdd(slab, list);
        }
    }

    /// <summary>Counts <paramref name="objects"/> handed out of the slabs and the high-water mark of objects in use (<c>STATS_INC_ALLOCED</c>, <c>STATS_SET_HIGH</c>). Caller holds the list lock.</summary>
    private void CountListAllocs(int objects)
    {
        ListAllocs += objects;
        long active = (long)(NrPartial + NrFull + NrFree) * Layout.ObjectsPerSlab - FreeObjects;
        if (active > HighMark)
            HighMark = active;
    }

    /// <summary>The cases <see cref="FreeBlock"/> does not put on a freelist. Caller holds the list lock.</summary>
    private void FreeBlockDamaged(Slab* slab, byte* obj, ulong word)
    {
        if (slab->InUse == 0)
        {
            // Reported once: further objects of a slab already isolated for its count are expected to come back.
            if (slab->List != SlabList.Quarantined)
                Quarantine(slab, SlabErrorKind.CountCorrupt, obj, word,
                    "Object freed into a slab with no object in use (freed twice, or the count was overwritten)");
            return;
        }
        if (word != Cache.Fast.Fp.Key(obj))
            Quarantine(slab, SlabErrorKind.ObjectOverwritten, obj, word,
                "Object overwritten while free: use after free, or an overflow from its neighbour");
        slab->InUse--; // back, but never reused: its slab is quarantined
    }

    /// <summary>Takes the first free slab off the lists onto <paramref name="destroy"/>. Caller holds the list lock.</summary>
    public void DetachFreeSlab(ref Slab* destroy)
    {
        Slab* slab = SlabsFree;
        ListDel(slab);
        FreeObjects -= slab->Objects;
        slab->Frozen = 1;
        slab->Next = destroy;
        destroy = slab;
    }

    /// <summary>Gives up to <paramref name="max"/> free slabs back to the page source (<c>drain_freelist</c>). Takes the list lock.</summary>
    public int DrainFreelist(int max)
    {
        Slab* destroy = null;
        using (ListLock.EnterScope())
        {
            for (int i = 0; i < max && SlabsFree != null; i++)
                DetachFreeSlab(ref destroy);
        }
        return SlabsDestroy(destroy);
    }

    /// <summary>
    /// Gives detached slabs back to the page source (<c>slabs_destroy</c>) after checking each one's freelist and unused
    /// objects (<see cref="CheckFreeSlab"/>): a damaged one is reported and quarantined instead. Returns how many were
    /// given back. Caller holds no list lock.
    /// </summary>
    public int SlabsDestroy(Slab* list)
    {
        int freed = 0;
        while (list != null)
        {
            Slab* next = list->Next;
            if ((Layout.DebugFlags & SlabFlags.ConsistencyChecks) != 0)
                CheckObjectsOfFreeSlab(list); // free_slab's debug checks; repaired, the slab still goes back
            FreeSlabCheck check = CheckFreeSlab(list);
            if (check.Intact)
            {
                PageSource.FreePages(Cache.Pages, list);
                freed++;
            }
            else
            {
                using (ListLock.EnterScope())
                    Quarantine(list, check.Kind, (byte*)check.Obj, check.Found, check.What);
            }
            list = next;
        }
        return freed;
    }

    /// <summary>What <see cref="CheckFreeSlab"/> found: intact, or the first damaged object (0 when the chain's length is wrong), the word in it, and what is wrong.</summary>
    public readonly record struct FreeSlabCheck(bool Intact, nint Obj, ulong Found, SlabErrorKind Kind, string What);

    /// <summary>
    /// Checks a wholly free slab on its way back to the page source: its freelist must name every object handed out
    /// since it was made, each once, and the objects never handed out must still carry their mark.
    /// </summary>
    private FreeSlabCheck CheckFreeSlab(Slab* slab)
    {
        FreePointer fp = Cache.Fast.Fp;
        int count = 0;
        for (byte* p = slab->Freelist; p != null; count++)
        {
            if (count >= slab->Bump)
                return new(false, 0, 0, SlabErrorKind.FreechainCorrupt, "Freechain corrupt: longer than the objects handed out (a loop)");
            ulong word = *fp.Word(p);
            byte* next = (byte*)fp.Decode(p, word);
            if (next == fp.End(p))
                next = null;
            else if (next == p || !IsFreedObject(slab, next))
                return new(false, (nint)p, word, SlabErrorKind.FreechainCorrupt, "Freechain corrupt");
            p = next;
        }
        if (count != slab->Bump)
            return new(false, 0, 0, SlabErrorKind.FreechainCorrupt, $"Freechain corrupt: {count} free objects listed, {slab->Bump} handed out and returned");
        byte* first = slab->Base + Layout.RedLeftPad;
        for (int i = slab->Bump; i < slab->Objects; i++)
        {
            byte* obj = first + (nint)i * Layout.Size;
            if (*fp.Word(obj) != fp.Key(obj))
                return new(false, (nint)obj, *fp.Word(obj), SlabErrorKind.ObjectOverwritten, "Object overwritten before it was ever handed out");
        }
        return new(true, 0, 0, default, "");
    }

    /// <summary>
    /// Reports damage in <paramref name="slab"/> and takes it out of service (SLUB's <c>slab_err</c> then
    /// <c>slab_fix(s, "Marking all objects used")</c>): it leaves the partial, full or free list for the quarantine
    /// list, its freelist is dropped, and no object of it is handed out again. Frees of its live objects are still
    /// accepted (counted, not reused), and the slab goes back to the page source only when the cache is destroyed.
    /// Caller holds the list lock.
    /// </summary>
    public void Quarantine(Slab* slab, SlabErrorKind kind, byte* obj, ulong found, string summary)
    {
        ListLock.AssertHeld();
        var info = new List<string>(2)
        {
            $"Slab 0x{(nuint)slab->Base:x} objects={slab->Objects} used={slab->InUse} fp=0x{(nuint)slab->Freelist:x}",
        };
        if (obj != null)
            info.Add($"Object 0x{(nuint)obj:x} @offset={obj - slab->Base} fp=0x{(nuint)Cache.Fast.Fp.Decode(obj, found):x} (free pointer word 0x{found:x16} at +{Layout.Offset})");
        SlabErrors.Report(Cache, kind, (nuint)slab->Base, (nuint)obj, summary, info.ToArray(),
            slab->List == SlabList.Quarantined ? "The slab was isolated already" : "Isolating the slab: none of its objects will be handed out again");
        Isolate(slab);
    }

    /// <summary>
    /// The list half of <see cref="Quarantine"/>, for a caller that reported the damage itself: the slab goes to the
    /// quarantine list with its freelist dropped. False when it was there already. Caller holds the list lock.
    /// </summary>
    public bool Isolate(Slab* slab)
    {
        ListLock.AssertHeld();
        if (slab->List == SlabList.Quarantined)
            return false;
        if (slab->List != SlabList.None)
            ListDel(slab);
        slab->Freelist = null;
        slab->Frozen = 0;
        ListAdd(slab, SlabList.Quarantined);
        // The slab's own count may be what was damaged, so the free-object count is summed again from the slabs still
        // in service rather than adjusted by it.
        FreeObjects = CountFreeObjects();
        return true;
    }

    /// <summary>
    /// A cached free object (in a magazine, depot or array) whose free mark was overwritten: it is not handed out; its
    /// slab is reported and quarantined, and the object counts as returned to it. Takes the list lock.
    /// </summary>
    public void QuarantineObject(void* obj, string where)
    {
        Slab* slab = PageSource.VirtToSlab(obj, Layout.Order);
        using (ListLock.EnterScope())
        {
            Quarantine(slab, SlabErrorKind.ObjectOverwritten, (byte*)obj, *Cache.Fast.Fp.Word(obj),
                $"Object overwritten while free ({where}): use after free, or an overflow from its neighbour");
            if (slab->InUse > 0)
                slab->InUse--;
        }
    }

    /// <summary>Gives the quarantined slabs back to the page source (destroy only: nothing uses them). Takes the list lock.</summary>
    public void ReleaseQuarantine()
    {
        Slab* list = null;
        using (ListLock.EnterScope())
        {
            while (SlabsQuarantined != null)
            {
                Slab* slab = SlabsQuarantined;
                ListDel(slab);
                slab->Next = list;
                list = slab;
            }
        }
        while (list != null)
        {
            Slab* next = list->Next;
            PageSource.FreePages(Cache.Pages, list);
            list = next;
        }
    }

    /// <summary>
    /// Flushes the oldest batch of a full per-CPU array (the node's half of <c>cache_flusharray</c>): into the shared
    /// array if it has room, else back to the slabs. Returns how many objects left the array (its caller removes them).
    /// Takes the list lock; the caller holds the array's CPU guard.
    /// </summary>
    public int FlushArray(ArrayCache* ac)
    {
        int batchCount = System.Math.Min(ac->BatchCount, ac->Avail);
        Slab* destroy = null;
        using (ListLock.EnterScope())
        {
            ArrayCache* shared = Shared;
            int room = shared != null ? shared->Limit - shared->Avail : 0;
            if (room > 0)
            {
                batchCount = System.Math.Min(batchCount, room);
                new System.ReadOnlySpan<nint>(ArrayCache.Entry(ac), batchCount).CopyTo(new System.Span<nint>(ArrayCache.Entry(shared) + shared->Avail, batchCount));
                shared->Avail += batchCount;
            }
            else
                FreeBlock(ArrayCache.Entry(ac), batchCount, ref destroy);
        }
        SlabsDestroy(destroy);
        return batchCount;
    }

    /// <summary>Gives <paramref name="count"/> of an array's oldest objects back to the slabs (<c>drain_array_locked</c>). Takes the list lock.</summary>
    public void FreeToSlabs(void** objs, int count)
    {
        Slab* destroy = null;
        using (ListLock.EnterScope())
            FreeBlock(objs, count, ref destroy);
        SlabsDestroy(destroy);
    }

    /// <summary>Gives the whole shared array back to the slabs. Part of <c>drain_cpu_caches</c>. Takes the list lock.</summary>
    public void DrainShared()
    {
        Slab* destroy = null;
        using (ListLock.EnterScope())
        {
            if (Shared != null)
            {
                FreeBlock(ArrayCache.Entry(Shared), Shared->Avail, ref destroy);
                Shared->Avail = 0;
            }
        }
        SlabsDestroy(destroy);
    }

    /// <summary>
    /// The node's step of a reap pass (<c>cache_reap</c>): an untouched shared array gives back its reap share, and
    /// when no free slab was taken since the last pass, a fifth of <c>free_limit</c>'s worth of free slabs go back to the
    /// page source. Returns the slabs given back. Takes the list lock.
    /// </summary>
    public int Reap()
    {
        Slab* destroy = null;
        bool drainFree;
        long freeLimit;
        using (ListLock.EnterScope())
        {
            ArrayCache* shared = Shared;
            if (shared != null && shared->Avail > 0)
            {
                if (shared->Touched != 0)
                    shared->Touched = 0;
                else
                {
                    int toFree = ArrayCache.ReapShare(shared->Limit, shared->Avail);
                    FreeBlock(ArrayCache.Entry(shared), toFree, ref destroy);
                    ArrayCache.RemoveOldest(ArrayCache.Entry(shared), ref shared->Avail, toFree);
                }
            }
            drainFree = !FreeTouched;
            FreeTouched = false;
            freeLimit = FreeLimit;
        }
        int freed = SlabsDestroy(destroy);
        int num = Layout.ObjectsPerSlab;
        if (drainFree)
            freed += DrainFreelist((int)((freeLimit + 5 * num - 1) / (5 * num)));
        return freed;
    }

    /// <summary>
    /// Installs a new shared array and <c>free_limit</c> after a re-tune (the node's half of <c>alloc_kmemlist</c>): the
    /// old array's objects go back to the slabs, as do free slabs beyond the new limit. Returns the old array to free.
    /// Takes the list lock.
    /// </summary>
    public ArrayCache* ReplaceShared(ArrayCache* fresh, long freeLimit)
    {
        Slab* destroy = null;
        ArrayCache* old;
        using (ListLock.EnterScope())
        {
            old = Shared;
            Shared = fresh;
            FreeLimit = freeLimit;
            if (old != null)
                FreeBlock(ArrayCache.Entry(old), old->Avail, ref destroy);
            while (FreeObjects > FreeLimit && SlabsFree != null)
                DetachFreeSlab(ref destroy);
        }
        SlabsDestroy(destroy);
        return old;
    }

    /// <summary>Objects handed out of this node's slabs (to users or to the caching layers), quarantined slabs included. Takes the list lock.</summary>
    public long InUseObjects()
    {
        long inUse = 0;
        using (ListLock.EnterScope())
        {
            for (Slab* s = SlabsPartial; s != null; s = s->Next)
                inUse += s->InUse;
            for (Slab* s = SlabsFull; s != null; s = s->Next)
                inUse += s->InUse;
            for (Slab* s = SlabsQuarantined; s != null; s = s->Next)
                inUse += s->InUse;
        }
        return inUse;
    }

    /// <summary>The free objects of the partial and free slabs, counted slab by slab. Caller holds the list lock.</summary>
    private long CountFreeObjects()
    {
        long free = 0;
        for (Slab* s = SlabsPartial; s != null; s = s->Next)
            free += s->Objects - s->InUse;
        for (Slab* s = SlabsFree; s != null; s = s->Next)
            free += s->Objects - s->InUse;
        return free;
    }

    /// <summary>
    /// What is wrong with the node's lists, or null (mimalloc's <c>_mi_page_is_valid</c>, SLUB's <c>validate_slab_node</c>):
    /// every slab is on the list its count says, the list counts and <see cref="FreeObjects"/> agree with the slabs, and
    /// each slab in service has as many objects on its freelist and not yet handed out as it has free. Takes the list lock.
    /// </summary>
    public string? Invariant()
    {
        using (ListLock.EnterScope())
        {
            int partial = 0, full = 0, free = 0, quarantined = 0;
            for (Slab* s = SlabsPartial; s != null; s = s->Next, partial++)
                if (s->List != SlabList.Partial || s->InUse == 0 || s->InUse >= s->Objects)
                    return $"node {Id}: slab 0x{(nuint)s->Base:x} (inuse {s->InUse}/{s->Objects}) is on the partial list";
            for (Slab* s = SlabsFull; s != null; s = s->Next, full++)
                if (s->List != SlabList.Full || s->InUse != s->Objects)
                    return $"node {Id}: slab 0x{(nuint)s->Base:x} (inuse {s->InUse}/{s->Objects}) is on the full list";
            for (Slab* s = SlabsFree; s != null; s = s->Next, free++)
                if (s->List != SlabList.Free || s->InUse != 0)
                    return $"node {Id}: slab 0x{(nuint)s->Base:x} (inuse {s->InUse}/{s->Objects}) is on the free list";
            for (Slab* s = SlabsQuarantined; s != null; s = s->Next, quarantined++)
                if (s->List != SlabList.Quarantined)
                    return $"node {Id}: slab 0x{(nuint)s->Base:x} is on the quarantine list but says {s->List}";
            if ((partial, full, free, quarantined) != (NrPartial, NrFull, NrFree, NrQuarantined))
                return $"node {Id}: lists hold {partial}/{full}/{free}/{quarantined} slabs, counts say {NrPartial}/{NrFull}/{NrFree}/{NrQuarantined}";
            if (CountFreeObjects() != FreeObjects)
                return $"node {Id}: free_objects is {FreeObjects}, the slabs hold {CountFreeObjects()}";
            for (int pass = 0; pass < 2; pass++)
            {
                for (Slab* s = pass == 0 ? SlabsPartial : SlabsFree; s != null; s = s->Next)
                {
                    int listed = 0;
                    for (byte* p = s->Freelist; p != null && listed <= s->Objects; listed++)
                    {
                        byte* next = (byte*)Cache.Fast.Fp.Decode(p, *Cache.Fast.Fp.Word(p));
                        p = next == Cache.Fast.Fp.End(p) ? null : next;
                    }
                    if (listed + (s->Objects - s->Bump) != s->Objects - s->InUse)
                        return $"node {Id}: slab 0x{(nuint)s->Base:x} has {listed} objects on its freelist and {s->Objects - s->Bump} never handed out, but {s->Objects - s->InUse} free";
                }
            }
        }
        return null;
    }

    /// <summary>Debug builds: fails when <see cref="Invariant"/> finds something wrong.</summary>
    [Conditional("DEBUG")]
    public void AssertValid()
    {
        string? problem = Invariant();
        Debug.Assert(problem == null, problem);
    }
}
