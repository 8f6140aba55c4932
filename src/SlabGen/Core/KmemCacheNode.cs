namespace SlabGen.Core;

/// <summary>
/// One node's slab lists (<c>struct kmem_cache_node</c>, once <c>kmem_list3</c>): partial, full and free slabs
/// under <see cref="ListLock"/>, the count of free objects in them, the limit above which free slabs go back to
/// the page source, and the node's shared array cache; beside them, under a lock of its own, the node's barn of full
/// sheaves.
/// </summary>
internal sealed unsafe class KmemCacheNode(int id, int cpusOnNode)
{
    public readonly int Id = id;
    public readonly int CpusOnNode = cpusOnNode;

    /// <summary><c>list_lock</c>: guards everything below.</summary>
    public readonly RawSpinLock ListLock = new();

    public Slab* SlabsPartial;
    public Slab* SlabsFull;
    public Slab* SlabsFree;

    /// <summary>Slabs found damaged: never allocated from, kept until the cache is destroyed (<see cref="SlabList.Quarantined"/>).</summary>
    public Slab* SlabsQuarantined;
    public int NrPartial;
    public int NrFull;
    public int NrFree;
    public int NrQuarantined;

    /// <summary>Free objects in this node's slabs (not counting objects cached in arrays).</summary>
    public long FreeObjects;

    /// <summary><c>free_limit = (1 + cpus_on_node) * batchcount + objects_per_slab</c>.</summary>
    public long FreeLimit;

    /// <summary>The node's shared array (<c>shared * batchcount</c> entries), or null when the shared factor is 0.</summary>
    public ArrayCache* Shared;

    /// <summary>Set when a free slab was taken for allocation; the reaper leaves free slabs alone for one pass.</summary>
    public bool FreeTouched;

    /// <summary>
    /// Guards <see cref="Barn"/> and its counters. Taken before <see cref="ListLock"/> when both are held (a barn
    /// drains into the slab lists), never after it.
    /// </summary>
    public readonly RawSpinLock BarnLock = new();

    /// <summary>The node's barn of full sheaves, or null before the cache's arrays are tuned and after destroy.</summary>
    public Barn* Barn;

    /// <summary>Sheaves taken from and given to the barn (SLUB's <c>barn_get</c> and <c>barn_put</c> stats).</summary>
    public long BarnGet, BarnPut;

    public int TotalSlabs => NrPartial + NrFull + NrFree + NrQuarantined;

    /// <summary>Puts <paramref name="slab"/> at the head of list <paramref name="list"/> (<c>list_add</c>).</summary>
    public void ListAdd(Slab* slab, SlabList list)
    {
        ref Slab* head = ref Head(list);
        slab->Prev = null;
        slab->Next = head;
        if (head != null)
            head->Prev = slab;
        head = slab;
        slab->List = list;
        Count(list)++;
    }

    /// <summary>Takes <paramref name="slab"/> off whatever list it is on (<c>list_del</c>).</summary>
    public void ListDel(Slab* slab)
    {
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
}
