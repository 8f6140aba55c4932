using System;
using System.Runtime.CompilerServices;
using System.Threading;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

// The free slow path: the double-free check, magazine flush to the depot or the per-CPU array, cache_flusharray, and
// objects of other nodes straight back to their slabs.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// The free slow path, where the fast path leaves an object whose magazine is full, stolen or absent, or whose
    /// free pointer word marks it free already. A free object is refused here (<see cref="CheckDoubleFree"/>), before
    /// anything changes; any other is marked free and goes on to <see cref="FreeMarked"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void FreeSlow(void* obj)
    {
        if (IsDebug)
        {
            DebugFree(obj); // every free of a debug cache gets here: its fast path refuses all of them
            return;
        }
        ThrowIfDisposed();
        ThrowIfPopulating(nameof(Free));
        ulong* word = Fast.Fp.Word(obj);
        if (Fast.Fp.LooksFree(obj, *word))
            CheckDoubleFree(obj);
        *word = Fast.Fp.Key(obj);
        FreeMarked(obj);
        SlabErrors.Flush();
    }

    /// <summary>
    /// Frees an object already checked and marked free: hand this thread's full magazine to the node's depot whole,
    /// else flush its oldest batch to the per-CPU array; or bypass a stolen magazine.
    /// </summary>
    private void FreeMarked(void* obj)
    {
        Magazine* m = _magazines.Own();
        if (m != null)
        {
            Volatile.Write(ref m->InUse, 1);
            try
            {
                if (Volatile.Read(ref m->Tag) == Fast.Tag)
                {
                    if (m->Avail == m->Limit)
                        NoteExchange(); // the magazine ran full
                    if (m->Avail == m->Limit && !DepotPutFull(m))
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

    /// <summary>A full magazine to the local node's depot, when every object in it is local (remote frees bypass the depot).</summary>
    private bool DepotPutFull(Magazine* m)
    {
        KmemCacheNode n = LocalNode();
        if (_nodes.Length > 1)
        {
            void** objs = Magazine.Entry(m);
            for (int i = 0; i < m->Avail; i++)
                if (SlabOf(objs[i])->Node != n.Id)
                    return false;
        }
        return n.DepotPutFull(m);
    }

    /// <summary>
    /// The second free of a double free, or chance: <paramref name="obj"/>'s free pointer word decodes into its own
    /// slab. Under the list lock the word is decoded exactly: the object itself (free, cached in a magazine, depot or
    /// array), a free object of the slab or the end of the freelist (free, on its slab), or the slot was never handed
    /// out; each throws, with nothing changed. A word that only looked free by chance returns: the free goes on.
    /// </summary>
    internal void CheckDoubleFree(void* obj)
    {
        Slab* slab = SlabOf(obj);
        KmemCacheNode n = _nodes[slab->Node];
        ulong* word = Fast.Fp.Word(obj);
        string? where;
        using (n.ListLock.EnterScope())
        {
            nuint index = (nuint)((byte*)obj - (slab->Base + _layout.RedLeftPad)) / (nuint)_layout.Size;
            if (slab->List != SlabList.Quarantined && index >= slab->Bump)
                throw new ArgumentException(NotHandedOutMessage(obj), nameof(obj));
            byte* next = (byte*)Fast.Fp.Decode(obj, *word);
            where = next == obj ? null
                : next == Fast.Fp.End(obj) || n.IsFreedObject(slab, next) ? "it is on its slab's freelist"
                : "";
            if (where == "")
                return; // live: its data happened to decode into its slab
            if (slab->List == SlabList.Quarantined)
                where = "its slab is quarantined";
        }
        where ??= WhereCached(obj);
        throw new DoubleFreeException(Name, (nuint)obj,
            $"slab cache '{Name}': double free of 0x{(nuint)obj:x}: the object is already free ({where}); nothing was changed.");
    }

    /// <summary>Which caching layer holds free <paramref name="obj"/>, as far as this thread can tell without stopping others.</summary>
    private string WhereCached(void* obj)
    {
        Magazine* own = ThreadMagazines.Get(Fast.Slot);
        if (own != null && Volatile.Read(ref own->Tag) == Fast.Tag)
        {
            void** e = Magazine.Entry(own);
            for (int i = 0; i < own->Avail; i++)
                if (e[i] == obj)
                    return "it is in this thread's magazine";
        }
        return "it is cached in another thread's magazine, a depot or a per-CPU array";
    }

    /// <summary>
    /// Puts <paramref name="count"/> objects into the current CPU's array (<c>__cache_free</c>), flushing a batch of
    /// it first when they would not fit (<c>cache_flusharray</c>). Objects of another node go straight back to
    /// their own node's lists, the job of the kernel's alien caches.
    /// </summary>
    private void FreeToCpu(void** objs, int count)
    {
        CpuSlot* slot = _cpuSlots + _topology.CurrentCpu();
        using (CpuSlot.Enter(slot))
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
                {
                    int flushed = _nodes[node].FlushArray(ac);
                    ArrayCache.RemoveOldest(ArrayCache.Entry(ac), ref ac->Avail, flushed);
                }
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

    /// <summary>Returns objects of any nodes straight to their slabs, one list lock per node (<c>free_block</c> per node).</summary>
    internal void FreeToNodes(void** objs, int count)
    {
        while (count > 0)
        {
            int node = SlabOf(objs[0])->Node;
            int mine = _nodes.Length > 1 ? PartitionLocal(objs, count, node) : count;
            _nodes[node].FreeToSlabs(objs, mine);
            objs += mine;
            count -= mine;
        }
    }

    /// <summary>The slab descriptor of one of this cache's objects (<c>virt_to_slab</c>).</summary>
    private Slab* SlabOf(void* obj) => PageSource.VirtToSlab(obj, _layout.Order);

    /// <summary>The node whose lists own <paramref name="obj"/>'s slab.</summary>
    private KmemCacheNode NodeOf(void* obj) => _nodes[SlabOf(obj)->Node];
}
