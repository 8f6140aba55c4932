using System;

namespace SlabGen.Core;

// The node's depot: whole-magazine exchanges with thread magazines, under DepotLock (taken before ListLock, never after).
internal sealed unsafe partial class KmemCacheNode
{
    /// <summary>
    /// Refills an empty magazine with a whole full one from the depot (<c>barn_replace_empty_sheaf</c>); false when the
    /// depot has none, or holds magazines of another size (a re-tune is under way). The caller owns
    /// <paramref name="m"/> (its <see cref="Magazine.InUse"/> is set and its tag is live). Takes the depot lock.
    /// </summary>
    public bool DepotGetFull(Magazine* m)
    {
        using (DepotLock.EnterScope())
        {
            Depot* d = Depot;
            if (d == null || d->NrFull == 0 || d->Capacity != m->Limit)
                return false;
            int cap = d->Capacity;
            new ReadOnlySpan<nint>(Core.Depot.Full(d, --d->NrFull), cap).CopyTo(new Span<nint>(Magazine.Entry(m), cap));
            d->Touched = 1;
            DepotGet++;
            m->Avail = cap;
            m->In += cap;
            return true;
        }
    }

    /// <summary>
    /// Empties a full magazine into the depot (<c>barn_replace_full_sheaf</c>); false when the depot already holds
    /// <see cref="Core.Depot.MaxFull"/>, or magazines of another size. The caller owns <paramref name="m"/>, and has
    /// checked that every object in it belongs to this node: as with the kernel's sheaves, remote frees bypass the
    /// depot, so that what a node's depot hands out is always local. Takes the depot lock.
    /// </summary>
    public bool DepotPutFull(Magazine* m)
    {
        using (DepotLock.EnterScope())
        {
            Depot* d = Depot;
            if (d == null || d->NrFull == Core.Depot.MaxFull || d->Capacity != m->Limit)
                return false;
            int cap = d->Capacity;
            new ReadOnlySpan<nint>(Magazine.Entry(m), cap).CopyTo(new Span<nint>(Core.Depot.Full(d, d->NrFull++), cap));
            d->Touched = 1;
            DepotPut++;
            m->Avail = 0;
            m->Out += cap;
            return true;
        }
    }

    /// <summary>
    /// Gives up to <paramref name="count"/> of the depot's full magazines, oldest first, back to the slabs
    /// (<c>barn_shrink</c>). Caller holds the depot lock (and no list lock, which this takes).
    /// </summary>
    private void DepotShrink(Depot* d, int count)
    {
        DepotLock.AssertHeld();
        int k = Math.Min(count, d->NrFull);
        if (k == 0)
            return;
        int cap = d->Capacity;
        FreeToSlabs(Core.Depot.Full(d, 0), k * cap);
        d->NrFull -= k;
        new ReadOnlySpan<nint>(Core.Depot.Full(d, k), d->NrFull * cap).CopyTo(new Span<nint>(Core.Depot.Full(d, 0), d->NrFull * cap));
    }

    /// <summary>Gives every full magazine of the depot back to the slabs. Part of <c>drain_cpu_caches</c>. Takes the depot lock.</summary>
    public void DrainDepot()
    {
        using (DepotLock.EnterScope())
            if (Depot != null)
                DepotShrink(Depot, Core.Depot.MaxFull);
    }

    /// <summary>
    /// The depot's step of a reap pass: a depot used since the last pass is left alone, an idle one gives back two full
    /// magazines, a fifth of what it can hold, as <c>drain_array</c> gives back <c>(limit + 4) / 5</c> of an array.
    /// Takes the depot lock.
    /// </summary>
    public void ReapDepot()
    {
        using (DepotLock.EnterScope())
        {
            Depot* d = Depot;
            if (d == null)
                return;
            if (d->Touched != 0)
                d->Touched = 0;
            else
                DepotShrink(d, (Core.Depot.MaxFull + 4) / 5);
        }
    }

    /// <summary>Swaps in a new depot and drains the old one (part of <c>alloc_kmemlist</c>); returns the old one to free. Takes the depot lock.</summary>
    public Depot* ReplaceDepot(Depot* fresh)
    {
        using (DepotLock.EnterScope())
        {
            Depot* old = Depot;
            if (old != null)
                DepotShrink(old, Core.Depot.MaxFull);
            Depot = fresh;
            return old;
        }
    }

    /// <summary>Objects held in the depot. Takes the depot lock.</summary>
    public long DepotObjects()
    {
        using (DepotLock.EnterScope())
            return Depot != null ? Core.Depot.Objects(Depot) : 0;
    }
}
