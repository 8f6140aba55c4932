using System;
using System.Runtime.CompilerServices;
using System.Threading;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

// The allocation slow path: magazine refill from the depot or the per-CPU array, cache_alloc_refill and cache_grow.
public sealed unsafe partial class SlabCache
{
    /// <summary><c>BATCHREFILL_LIMIT</c>: an untouched array refills at most this many objects at a time.</summary>
    internal const int BatchRefillLimit = 16;

    /// <summary>
    /// The allocation slow path: refill this thread's empty magazine with a full one from the node's depot, else with
    /// a batch from the per-CPU array; or bypass a stolen magazine. When the node has no free object left it grows the
    /// cache by one slab, with no lock held (the ctor may take its time and allocate from other caches), and tries again.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void* AllocSlow()
    {
        if (IsDebug)
            return DebugAlloc(0); // every allocation of a debug cache gets here: its fast path never finds a magazine
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

    /// <summary>
    /// The allocation slow path of a kmalloc request of <paramref name="requested"/> bytes (<c>__kmalloc_cache</c>): a
    /// debug kmalloc cache keeps the size for its kmalloc red zone; any other cache ignores it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void* AllocSlow(nuint requested) => IsDebug ? DebugAlloc((int)requested) : AllocSlow();

    /// <summary>One try of the slow path; null (and the node to grow) when a slab must be populated first.</summary>
    private void* AllocSlowOnce(out int growNode)
    {
        Magazine* m = _magazines.Own();
        if (m != null)
        {
            Volatile.Write(ref m->InUse, 1);
            try
            {
                if (Volatile.Read(ref m->Tag) == Fast.Tag)
                {
                    void* obj = PopChecked(m);
                    if (obj == null)
                    {
                        NoteExchange(); // the magazine ran empty
                        if (LocalNode().DepotGetFull(m))
                            obj = PopChecked(m);
                    }
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

    /// <summary>The node of the CPU the calling thread runs on (no CPU lookup on a one-node machine).</summary>
    private KmemCacheNode LocalNode() => _nodes.Length == 1 ? _nodes[0] : _nodes[_topology.NodeOf(_topology.CurrentCpu())];

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
            NodeOf(obj).QuarantineObject(obj, "in a thread magazine");
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
    /// it is empty (<c>cache_alloc_refill</c>), and moves up to a batch more into <paramref name="m"/> when given. Null
    /// when the node is out of objects: the caller grows the cache (counted in <see cref="_growing"/> here, under the guard).
    /// </summary>
    private void* AllocFromCpu(Magazine* m, out int growNode)
    {
        growNode = -1;
        CpuSlot* slot = _cpuSlots + _topology.CurrentCpu();
        using (CpuSlot.Enter(slot))
        {
            ThrowIfDisposed();
            ArrayCache* ac = slot->Ac;
            bool missed = false;
            void* obj;
            while (true)
            {
                if (ac->Avail == 0)
                {
                    int batchCount = ac->BatchCount;
                    if (ac->Touched == 0 && batchCount > BatchRefillLimit)
                        batchCount = BatchRefillLimit;
                    if (!_nodes[slot->Node].Refill(ac, batchCount))
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
                NodeOf(obj).QuarantineObject(obj, "in a per-CPU array");
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
            LockOrder.AssertNoneHeld();
            Slab* slab = CacheGrowBegin(nodeId);
            if (slab == null)
                throw new OutOfMemoryException(
                    $"slab cache '{Name}': cannot grow: the page source has no room for another {_layout.SlabBytes}-byte slab.");
            PageSource.Publish(_pages, slab); // from here on its objects are this cache's
            _nodes[nodeId].FileNewSlab(slab);
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
        Slab* slab = PageSource.AllocPages(_pages);
        if (slab == null)
            return null;
        int num = _layout.ObjectsPerSlab, size = _layout.Size;
        byte* first = slab->Base + _layout.RedLeftPad;
        FreePointer fp = Fast.Fp;
        if (_layout.Debug)
        {
            // setup_slab_debug, then setup_object_debug on each object, before the ctor (as setup_object orders them).
            SlabDebug.SetupSlab(_layout, slab->Base);
            for (int i = 0; i < num; i++)
                SlabDebug.SetupObject(_layout, first + (nint)i * size);
        }
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
                PageSource.FreePages(_pages, slab);
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
}
