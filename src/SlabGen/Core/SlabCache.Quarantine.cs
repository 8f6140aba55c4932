using System.Collections.Generic;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

// Containing damage: slabs whose free pointers, counts or free objects were found overwritten are reported and
// quarantined, so that no address outside the cache and no object twice is ever handed out.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// Reports damage in <paramref name="slab"/> and takes it out of service (SLUB's <c>slab_err</c> then
    /// <c>slab_fix(s, "Marking all objects used")</c>): it leaves the partial, full or free list for the quarantine
    /// list, its freelist is dropped, and no object of it is handed out again. Frees of its live objects are still
    /// accepted (counted, not reused), and the slab goes back to the page source only when the cache is destroyed.
    /// Caller holds <paramref name="n"/>'s list lock.
    /// </summary>
    private void Quarantine(KmemCacheNode n, Slab* slab, SlabErrorKind kind, byte* obj, ulong found, string summary)
    {
        var info = new List<string>(2)
        {
            $"Slab 0x{(nuint)slab->Base:x} objects={slab->Objects} used={slab->InUse} fp=0x{(nuint)slab->Freelist:x}",
        };
        if (obj != null)
            info.Add($"Object 0x{(nuint)obj:x} @offset={obj - slab->Base} fp=0x{(nuint)Fast.Fp.Decode(obj, found):x} (free pointer word 0x{found:x16} at +{_layout.Offset})");
        SlabErrors.Report(Name, kind, (nuint)slab->Base, (nuint)obj, summary, info.ToArray(),
            slab->List == SlabList.Quarantined ? "The slab was isolated already" : "Isolating the slab: none of its objects will be handed out again");
        if (slab->List == SlabList.Quarantined)
            return;
        if (slab->List != SlabList.None)
            n.ListDel(slab);
        slab->Freelist = null;
        slab->Frozen = 0;
        n.ListAdd(slab, SlabList.Quarantined);
        // The slab's own count may be what was damaged, so the node's free-object count is summed again from the slabs
        // still in service rather than adjusted by it.
        long free = 0;
        for (Slab* s = n.SlabsPartial; s != null; s = s->Next)
            free += s->Objects - s->InUse;
        for (Slab* s = n.SlabsFree; s != null; s = s->Next)
            free += s->Objects - s->InUse;
        n.FreeObjects = free;
    }

    /// <summary>
    /// A cached free object (in a magazine, barn or array) whose free mark was overwritten: it is not handed out; its
    /// slab is reported and quarantined, and the object counts as returned to it. Caller holds no list lock.
    /// </summary>
    private void QuarantineObject(void* obj, string where)
    {
        Slab* slab = SlabOf(obj);
        KmemCacheNode n = _nodes[slab->Node];
        using (n.ListLock.EnterScope())
        {
            Quarantine(n, slab, SlabErrorKind.ObjectOverwritten, (byte*)obj, *Fast.Fp.Word(obj),
                $"Object overwritten while free ({where}): use after free, or an overflow from its neighbour");
            if (slab->InUse > 0)
                slab->InUse--;
        }
    }

    /// <summary>What <see cref="CheckFreeSlab"/> found: intact, or the first damaged object (0 when the chain's length is wrong), the word in it, and what is wrong.</summary>
    private readonly record struct FreeSlabCheck(bool Intact, nint Obj, ulong Found, SlabErrorKind Kind, string What);

    /// <summary>
    /// Checks a wholly free slab on its way back to the page source: its freelist must name every object handed out
    /// since it was made, each once, and the objects never handed out must still carry their mark.
    /// </summary>
    private FreeSlabCheck CheckFreeSlab(Slab* slab)
    {
        FreePointer fp = Fast.Fp;
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
        byte* first = slab->Base + _layout.RedLeftPad;
        for (int i = slab->Bump; i < slab->Objects; i++)
        {
            byte* obj = first + (nint)i * _layout.Size;
            if (*fp.Word(obj) != fp.Key(obj))
                return new(false, (nint)obj, *fp.Word(obj), SlabErrorKind.ObjectOverwritten, "Object overwritten before it was ever handed out");
        }
        return new(true, 0, 0, default, "");
    }

    /// <summary>Puts a detached slab (on its way to the page source) into quarantine instead. Caller holds no list lock.</summary>
    private void QuarantineDetached(Slab* slab, FreeSlabCheck damage)
    {
        KmemCacheNode n = _nodes[slab->Node];
        using (n.ListLock.EnterScope())
            Quarantine(n, slab, damage.Kind, (byte*)damage.Obj, damage.Found, damage.What);
    }

    /// <summary>Gives node <paramref name="n"/>'s quarantined slabs back to the page source (destroy only: nothing uses them).</summary>
    private void ReleaseQuarantine(KmemCacheNode n)
    {
        Slab* list = null;
        using (n.ListLock.EnterScope())
        {
            while (n.SlabsQuarantined != null)
            {
                Slab* slab = n.SlabsQuarantined;
                n.ListDel(slab);
                slab->Next = list;
                list = slab;
            }
        }
        while (list != null)
        {
            Slab* next = list->Next;
            PageSource.FreeBlock(_pages, list);
            list = next;
        }
    }

    /// <summary>Slabs this cache has quarantined, on every node.</summary>
    internal long QuarantinedSlabs()
    {
        long total = 0;
        foreach (KmemCacheNode n in _nodes)
            using (n.ListLock.EnterScope())
                total += n.NrQuarantined;
        return total;
    }
}
