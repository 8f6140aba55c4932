using System;
using SlabGen.Core;

namespace SlabGen;

// The node barns: whole-magazine exchanges between thread magazines and a node's depot of full sheaves.
public sealed unsafe partial class SlabCache
{
    /// <summary>The node of the CPU the calling thread runs on (no CPU lookup on a one-node machine).</summary>
    private KmemCacheNode LocalNode() => _nodes.Length == 1 ? _nodes[0] : _nodes[_topology.NodeOf(_topology.CurrentCpu())];

    /// <summary>
    /// Refills an empty magazine with a whole full sheaf from the local node's barn (<c>barn_replace_empty_sheaf</c>);
    /// false when the barn has none, or holds sheaves of another size (a <see cref="Tune"/> is under way). The caller
    /// owns <paramref name="m"/> (its <see cref="Magazine.InUse"/> is set and its tag is live).
    /// </summary>
    private bool BarnGetFull(Magazine* m)
    {
        KmemCacheNode n = LocalNode();
        using (n.BarnLock.EnterScope())
        {
            Barn* b = n.Barn;
            if (b == null || b->NrFull == 0 || b->Capacity != m->Limit)
                return false;
            int cap = b->Capacity;
            new ReadOnlySpan<nint>(Barn.Sheaf(b, --b->NrFull), cap).CopyTo(new Span<nint>(Magazine.Entry(m), cap));
            b->Touched = 1;
            n.BarnGet++;
            m->Avail = cap;
            m->In += cap;
            return true;
        }
    }

    /// <summary>
    /// Empties a full magazine into the local node's barn as one sheaf (<c>barn_replace_full_sheaf</c>); false when the
    /// barn already holds <see cref="Barn.MaxFullSheaves"/>, holds sheaves of another size, or when the magazine holds
    /// an object of another node: as with the kernel's sheaves, remote frees bypass the barn, so that what a node's
    /// barn hands out is always local. The caller owns <paramref name="m"/>.
    /// </summary>
    private bool BarnPutFull(Magazine* m)
    {
        KmemCacheNode n = LocalNode();
        if (_nodes.Length > 1 && !AllOnNode(Magazine.Entry(m), m->Avail, n.Id))
            return false;
        using (n.BarnLock.EnterScope())
        {
            Barn* b = n.Barn;
            if (b == null || b->NrFull == Barn.MaxFullSheaves || b->Capacity != m->Limit)
                return false;
            int cap = b->Capacity;
            new ReadOnlySpan<nint>(Magazine.Entry(m), cap).CopyTo(new Span<nint>(Barn.Sheaf(b, b->NrFull++), cap));
            b->Touched = 1;
            n.BarnPut++;
            m->Avail = 0;
            m->Out += cap;
            return true;
        }
    }

    /// <summary>True when every one of <paramref name="objs"/> lives in a slab of node <paramref name="node"/>.</summary>
    private bool AllOnNode(void** objs, int count, int node)
    {
        for (int i = 0; i < count; i++)
            if (SlabOf(objs[i])->Node != node)
                return false;
        return true;
    }

    /// <summary>
    /// Gives up to <paramref name="sheaves"/> of a barn's full sheaves, oldest first, back to the slabs
    /// (<c>barn_shrink</c>). Caller holds the barn's <see cref="KmemCacheNode.BarnLock"/> and no list lock.
    /// </summary>
    private void BarnShrink(Barn* b, int sheaves)
    {
        int k = Math.Min(sheaves, b->NrFull);
        if (k == 0)
            return;
        int cap = b->Capacity;
        FreeToNodes(Barn.Sheaf(b, 0), k * cap);
        b->NrFull -= k;
        new ReadOnlySpan<nint>(Barn.Sheaf(b, k), b->NrFull * cap).CopyTo(new Span<nint>(Barn.Sheaf(b, 0), b->NrFull * cap));
    }

    /// <summary>Drains every node's barn to the slabs. Part of <c>drain_cpu_caches</c>.</summary>
    private void DrainBarns()
    {
        foreach (KmemCacheNode n in _nodes)
            using (n.BarnLock.EnterScope())
                if (n.Barn != null)
                    BarnShrink(n.Barn, Barn.MaxFullSheaves);
    }

    /// <summary>
    /// One reaping pass over the barns: a barn used since the last pass is left alone, an idle one gives back two
    /// sheaves, a fifth of what it can hold, as <c>drain_array</c> gives back <c>(limit + 4) / 5</c> of an array.
    /// </summary>
    private void ReapBarns()
    {
        foreach (KmemCacheNode n in _nodes)
            using (n.BarnLock.EnterScope())
            {
                Barn* b = n.Barn;
                if (b == null)
                    continue;
                if (b->Touched != 0)
                    b->Touched = 0;
                else
                    BarnShrink(b, (Barn.MaxFullSheaves + 4) / 5);
            }
    }

    /// <summary>Swaps in node <paramref name="n"/>'s new barn and drains the old one (part of <c>alloc_kmemlist</c>).</summary>
    private void ReplaceBarn(KmemCacheNode n, Barn* fresh)
    {
        Barn* old;
        using (n.BarnLock.EnterScope())
        {
            old = n.Barn;
            if (old != null)
                BarnShrink(old, Barn.MaxFullSheaves);
            n.Barn = fresh;
        }
        Barn.Destroy(old);
    }

    /// <summary>Objects held in the barns.</summary>
    private long BarnObjects()
    {
        long objects = 0;
        for (int node = 0; node < _nodes.Length; node++)
            objects += BarnObjects(node);
        return objects;
    }

    /// <summary>Objects held in node <paramref name="node"/>'s barn.</summary>
    internal long BarnObjects(int node)
    {
        KmemCacheNode n = _nodes[node];
        using (n.BarnLock.EnterScope())
            return n.Barn != null ? Barn.Objects(n.Barn) : 0;
    }
}
