using System;
using System.Collections.Generic;
using SlabGen.PageAlloc;

namespace SlabGen.Core;

// The node's lists as the checked paths use them: one object at a time under list_lock for a debug cache
// (alloc_single_from_partial, free_to_partial_list), and the walks of validate_slab_cache and the live-object listing.
internal sealed unsafe partial class KmemCacheNode
{
    /// <summary>Slabs a list walk follows at most: far more than a cache can hold, so a list whose links loop still ends.</summary>
    private const int MaxListWalk = 1 << 24;

    /// <summary>What the kernel's <c>slab_fix</c> says after an allocation found an object damaged.</summary>
    private const string MarkingAllObjectsUsed = "Marking all objects used: the slab is isolated, none of its objects will be handed out again";

    /// <summary>
    /// One object for a debug cache (<c>alloc_single_from_partial</c> + <c>alloc_debug_processing</c>): the first free
    /// object of a partial (else free) slab is checked (F), and one found damaged is reported, repaired and never handed
    /// out: its slab is isolated and the next slab is tried. Then <c>init_object(SLUB_RED_ACTIVE)</c>, the request size
    /// (kmalloc caches), the alloc track (U) and the trace line (T). Null when the node has no free object (the cache
    /// grows). Takes the list lock; the caller holds a CPU guard and took the stack (<paramref name="handle"/>) first.
    /// </summary>
    public byte* AllocSingle(int origSize, uint handle, int cpu)
    {
        SlabCache cache = Cache;
        SlabLayout l = Layout;
        FreePointer fp = cache.Fast.Fp;
        bool checks = (l.DebugFlags & SlabFlags.ConsistencyChecks) != 0;
        int errors = 0;
        using (ListLock.EnterScope())
        {
            while (true)
            {
                Slab* slab = GetFirstSlab();
                if (slab == null)
                    return null;
                if (slab->InUse >= slab->Objects || (slab->Freelist == null && slab->Bump >= slab->Objects))
                {
                    Quarantine(slab, SlabErrorKind.CountCorrupt, null, 0,
                        $"inuse {slab->InUse} of {slab->Objects} objects on the {(slab->List == SlabList.Free ? "free" : "partial")} list, none of them free");
                    continue;
                }
                byte* obj, next = null;
                bool fromFreelist = slab->Freelist != null;
                if (fromFreelist)
                {
                    obj = slab->Freelist;
                    ulong word = *fp.Word(obj);
                    next = (byte*)fp.Decode(obj, word);
                    if (next == fp.End(obj))
                        next = null;
                    else if (next == obj || !IsFreedObject(slab, next))
                    {
                        Quarantine(slab, SlabErrorKind.FreechainCorrupt, obj, word, "Freechain corrupt");
                        continue;
                    }
                }
                else
                {
                    obj = slab->Base + l.RedLeftPad + slab->Bump * l.Size;
                    if (*fp.Word(obj) != fp.Key(obj))
                    {
                        Quarantine(slab, SlabErrorKind.ObjectOverwritten, obj, *fp.Word(obj), "Object overwritten before it was ever handed out");
                        continue;
                    }
                }
                if (checks)
                {
                    SlabDebug.SlabPadCheck(cache, slab, ref errors); // check_slab: the tail is repaired, the slab stays
                    if (!SlabDebug.CheckObject(cache, this, slab, obj, SlabDebug.RedInactive, ref errors, MarkingAllObjectsUsed))
                    {
                        Isolate(slab);
                        continue;
                    }
                }
                if (fromFreelist)
                    slab->Freelist = next;
                else
                    slab->Bump++;
                slab->InUse++;
                FreeObjects--;
                CountListAllocs(1);
                FixupSlabList(slab);
                *fp.Word(obj) = 0; // live
                SlabDebug.SetOrigSize(l, obj, origSize);
                SlabDebug.InitObject(l, obj, SlabDebug.RedActive);
                if ((l.DebugFlags & SlabFlags.StoreUser) != 0)
                    Track.Update(Track.Of(l, obj, TrackItem.Alloc), handle, cpu);
                if ((l.DebugFlags & SlabFlags.Trace) != 0)
                    SlabDebug.Trace(cache, slab, obj, alloc: true, handle);
                return obj;
            }
        }
    }

    /// <summary>
    /// Frees one object of a debug cache to its slab (<c>free_to_partial_list</c> + <c>free_debug_processing</c>): it must
    /// have been handed out and not be free already (the freelist is walked under F, <c>on_freelist</c>), else the free is
    /// refused with nothing changed; its red zones are checked (F) and repaired; then the free track (U), the trace (T),
    /// <c>init_object(SLUB_RED_INACTIVE)</c>, and back on the slab's freelist. Free slabs beyond <c>free_limit</c> are
    /// chained on <paramref name="destroy"/>. Takes the list lock; the caller holds a CPU guard.
    /// </summary>
    /// <exception cref="DoubleFreeException">The object is free already.</exception>
    /// <exception cref="ArgumentException">The slot was never handed out since its slab was made.</exception>
    public void FreeSingle(byte* obj, uint handle, int cpu, ref Slab* destroy)
    {
        SlabCache cache = Cache;
        SlabLayout l = Layout;
        FreePointer fp = cache.Fast.Fp;
        bool checks = (l.DebugFlags & SlabFlags.ConsistencyChecks) != 0;
        int errors = 0;
        using (ListLock.EnterScope())
        {
            Slab* slab = PageSource.VirtToSlab(obj, l.Order);
            bool quarantined = slab->List == SlabList.Quarantined;
            ulong* word = fp.Word(obj);
            RefuseFreeLocked(slab, obj, ref errors);
            if (checks)
            {
                SlabDebug.SlabPadCheck(cache, slab, ref errors);
                SlabDebug.CheckObject(cache, this, slab, obj, SlabDebug.RedActive, ref errors); // repaired: the free goes on
            }
            if ((l.DebugFlags & SlabFlags.StoreUser) != 0)
                Track.Update(Track.Of(l, obj, TrackItem.Free), handle, cpu);
            if ((l.DebugFlags & SlabFlags.Trace) != 0)
                SlabDebug.Trace(cache, slab, obj, alloc: false, handle);
            SlabDebug.InitObject(l, obj, SlabDebug.RedInactive);
            if (quarantined || slab->InUse == 0)
            {
                if (!quarantined)
                    Quarantine(slab, SlabErrorKind.CountCorrupt, obj, *word,
                        "Object freed into a slab with no object in use (freed twice, or the count was overwritten)");
                *word = fp.Key(obj); // free, never reused: a second free of it is still caught
                if (slab->InUse > 0)
                    slab->InUse--;
                return;
            }
            LinkFree(slab, obj, word, fp);
            if (FreeObjects > MaxFreeable)
                MaxFreeable = FreeObjects;
            while (FreeObjects > FreeLimit && SlabsFree != null)
                DetachFreeSlab(ref destroy);
        }
    }

    /// <summary>Throws as <see cref="FreeSingle"/> would when <paramref name="obj"/> is not allocated now; changes nothing otherwise. Takes the list lock.</summary>
    public void RefuseFree(byte* obj)
    {
        int errors = 0;
        using (ListLock.EnterScope())
            RefuseFreeLocked(PageSource.VirtToSlab(obj, Layout.Order), obj, ref errors);
    }

    /// <summary>
    /// The refusals of <c>free_consistency_checks</c>, made before anything changes: a slot not handed out since its slab
    /// was made (<see cref="ArgumentException"/>), or an object already free (<see cref="DoubleFreeException"/>): on the
    /// freelist, found by walking it under F (<c>on_freelist</c>), else by its free pointer word as the default paths tell.
    /// Caller holds the list lock.
    /// </summary>
    private void RefuseFreeLocked(Slab* slab, byte* obj, ref int errors)
    {
        SlabCache cache = Cache;
        SlabLayout l = Layout;
        FreePointer fp = cache.Fast.Fp;
        bool quarantined = slab->List == SlabList.Quarantined;
        if (!quarantined && SlabDebug.IndexOf(l, slab, obj) >= slab->Bump)
            throw new ArgumentException(cache.NotHandedOutMessage(obj), nameof(obj));
        ulong word = *fp.Word(obj);
        string? where;
        if (quarantined || (l.DebugFlags & SlabFlags.ConsistencyChecks) == 0)
        {
            byte* next = (byte*)fp.Decode(obj, word);
            where = !fp.LooksFree(obj, word) ? null
                : quarantined && (next == obj || next == fp.End(obj) || IsFreedObject(slab, next)) ? "its slab is quarantined"
                : next == fp.End(obj) || (next != obj && IsFreedObject(slab, next)) ? "it is on its slab's freelist"
                : null;
        }
        else
            where = OnFreelist(slab, obj, ref errors) ? "it is on its slab's freelist" : null;
        if (where != null)
            throw new DoubleFreeException(cache.Name, (nuint)obj,
                $"slab cache '{cache.Name}': double free of 0x{(nuint)obj:x}: the object is already free ({where}); nothing was changed.");
    }

    /// <summary>
    /// <c>on_freelist</c> for a debug cache: walks <paramref name="slab"/>'s freelist looking for <paramref name="search"/>
    /// (null: to the end), repairing what it finds as the kernel does: a link that names no freed object of the slab
    /// ends the list at the last good object ("Freechain corrupt"), a bad head clears the list ("Freepointer corrupt",
    /// every object handed out counted in use), and a count that disagrees with the walk is adjusted ("Wrong object
    /// count"). Returns true when <paramref name="search"/> is on the list, or when <paramref name="search"/> is null
    /// and the list had a valid head. Caller holds the list lock.
    /// </summary>
    private bool OnFreelist(Slab* slab, byte* search, ref int errors)
    {
        SlabCache cache = Cache;
        FreePointer fp = cache.Fast.Fp;
        byte* p = slab->Freelist;
        if (p != null && !IsFreedObject(slab, p))
        {
            var report = new SlabReport(cache, SlabErrorKind.FreechainCorrupt, "Freepointer corrupt") { Slab = (nuint)slab->Base };
            report.Info(SlabDebug.SlabInfoLine(slab)).Fix("Freelist cleared").Queue();
            errors++;
            slab->Freelist = null;
            slab->InUse = slab->Bump; // every object handed out is counted in use: none of them will be handed out twice
            Refile(slab);
            return false;
        }
        int listed = 0;
        while (p != null)
        {
            if (p == search)
                return true;
            listed++;
            byte* next = (byte*)fp.Decode(p, *fp.Word(p));
            if (next == fp.End(p))
                break;
            bool corrupt = next == p || !IsFreedObject(slab, next);
            if (corrupt || listed >= slab->Bump) // a good link after every object handed out is listed: a loop
            {
                var report = new SlabReport(cache, SlabErrorKind.FreechainCorrupt,
                    corrupt ? "Freechain corrupt" : "Freechain corrupt: longer than the objects handed out (a loop)")
                    { Slab = (nuint)slab->Base, Object = (nuint)p };
                report.Info($"The freelist now ends at 0x{(nuint)p:x}: the free objects after it are lost to it");
                SlabDebug.PrintTrailer(report, cache, slab, p);
                report.Queue(); // object_err, and set_freepointer(NULL) with no slab_fix of its own
                errors++;
                *fp.Word(p) = fp.Encode(p, fp.End(p));
                break;
            }
            p = next;
        }
        int counted = slab->Objects - listed - (slab->Objects - slab->Bump);
        if (slab->InUse != counted)
        {
            var report = new SlabReport(cache, SlabErrorKind.CountCorrupt,
                $"Wrong object count. Counter is {slab->InUse} but counted were {counted}") { Slab = (nuint)slab->Base };
            report.Info(SlabDebug.SlabInfoLine(slab)).Fix("Object count adjusted").Queue();
            errors++;
            slab->InUse = (ushort)counted;
            Refile(slab);
        }
        return search == null;
    }

    /// <summary>Files <paramref name="slab"/> on the list its count says, and sums the node's free objects again. Caller holds the list lock.</summary>
    private void Refile(Slab* slab)
    {
        if (slab->List == SlabList.Quarantined)
            return;
        SlabList list = slab->InUse == 0 ? SlabList.Free : slab->InUse >= slab->Objects ? SlabList.Full : SlabList.Partial;
        if (slab->List != list)
        {
            if (slab->List != SlabList.None)
                ListDel(slab);
            ListAdd(slab, list);
        }
        FreeObjects = CountFreeObjects();
    }

    /// <summary>
    /// <c>free_slab</c> under F: a wholly free slab on its way back to the page source, detached from every list, has its
    /// padding and every object checked as free (<c>slab_pad_check</c>, <c>check_object(SLUB_RED_INACTIVE)</c>).
    /// </summary>
    private void CheckObjectsOfFreeSlab(Slab* slab)
    {
        int errors = 0;
        SlabDebug.SlabPadCheck(Cache, slab, ref errors);
        byte* first = slab->Base + Layout.RedLeftPad;
        for (int i = 0; i < slab->Objects && i < Layout.ObjectsPerSlab; i++)
            SlabDebug.CheckObject(Cache, this, slab, first + (nint)i * Layout.Size, SlabDebug.RedInactive, ref errors);
    }

    /// <summary>
    /// The node's part of <see cref="SlabCache.Validate"/> (<c>validate_slab_node</c>): the list counts are checked under
    /// the list lock, then each slab in service is checked under the list lock taken for that slab alone, so other
    /// threads go on using the cache. Returns the problems reported.
    /// </summary>
    public int Validate()
    {
        int errors = 0;
        var slabs = new List<nint>();
        using (ListLock.EnterScope())
        {
            errors += CheckListCount(SlabsPartial, ref NrPartial, "partial", slabs);
            errors += CheckListCount(SlabsFull, ref NrFull, "full", slabs);
            errors += CheckListCount(SlabsFree, ref NrFree, "free", slabs);
            long free = CountFreeObjects();
            if (free != FreeObjects)
            {
                new SlabReport(Cache, SlabErrorKind.CountCorrupt, $"node {Id}: free_objects is {FreeObjects} but the slabs hold {free}")
                    .Fix("Counter adjusted").Queue();
                errors++;
                FreeObjects = free;
            }
        }
        foreach (nint s in slabs)
        {
            var slab = (Slab*)s;
            using (ListLock.EnterScope())
            {
                if (!InService(slab))
                    continue; // freed, or taken for a new use, since the snapshot
                if (Layout.Debug)
                    ValidateSlab(slab, ref errors);
                else
                    ValidateSlabHardened(slab, ref errors);
            }
        }
        return errors;
    }

    /// <summary>Counts a list against its counter (reported and adjusted when they differ) and adds its slabs to <paramref name="into"/>. Caller holds the list lock.</summary>
    private int CheckListCount(Slab* head, ref int counter, string name, List<nint> into)
    {
        int count = 0;
        for (Slab* s = head; s != null && count < MaxListWalk; s = s->Next, count++)
            into.Add((nint)s);
        if (count == counter)
            return 0;
        new SlabReport(Cache, SlabErrorKind.CountCorrupt, $"node {Id}: {count} {name} slabs counted but counter={counter}")
            .Fix("Counter adjusted").Queue();
        counter = count;
        return 1;
    }

    /// <summary>True while <paramref name="slab"/> is on one of this node's lists in service (not quarantined, not being given back). Caller holds the list lock.</summary>
    private bool InService(Slab* slab)
        => (slab->List is SlabList.Partial or SlabList.Full or SlabList.Free) && slab->Frozen == 0
            && PageSource.PageOwnerOf(slab->Base) == Cache.Slot;

    /// <summary>
    /// <c>validate_slab</c> for a debug cache: <c>check_slab</c>, <c>on_freelist</c>, then <c>check_object</c> on every
    /// object, free or allocated, stopping at the first damaged one. Caller holds the list lock.
    /// </summary>
    private void ValidateSlab(Slab* slab, ref int errors)
    {
        if (!CheckSlab(slab, ref errors) || !OnFreelist(slab, null, ref errors))
            return;
        Span<ulong> free = stackalloc ulong[(Layout.ObjectsPerSlab + 63) / 64];
        FreeMap(slab, free);
        byte* first = slab->Base + Layout.RedLeftPad;
        for (int i = 0; i < slab->Objects; i++)
        {
            byte val = (free[i >> 6] & (1UL << i)) != 0 ? SlabDebug.RedInactive : SlabDebug.RedActive;
            if (!SlabDebug.CheckObject(Cache, this, slab, first + (nint)i * Layout.Size, val, ref errors))
                break;
        }
    }

    /// <summary><c>check_slab</c>: counts a slab of this cache can have, and its padding (P). Caller holds the list lock.</summary>
    private bool CheckSlab(Slab* slab, ref int errors)
    {
        string? problem =
            slab->Objects > Layout.ObjectsPerSlab ? $"objects {slab->Objects} > max {Layout.ObjectsPerSlab}"
            : slab->InUse > slab->Objects ? $"inuse {slab->InUse} > max {slab->Objects}"
            : slab->Bump > slab->Objects ? $"objects handed out {slab->Bump} > max {slab->Objects}"
            : null;
        if (problem != null)
        {
            new SlabReport(Cache, SlabErrorKind.CountCorrupt, problem) { Slab = (nuint)slab->Base }
                .Info(SlabDebug.SlabInfoLine(slab)).Fix("Isolating the slab: none of its objects will be handed out again").Queue();
            errors++;
            Isolate(slab);
            return false;
        }
        SlabDebug.SlabPadCheck(Cache, slab, ref errors);
        return true;
    }

    /// <summary>
    /// <c>validate_slab</c> for a cache without debug flags: what the default configuration keeps is checked (the
    /// freelist's encoded pointers, the count, the marks of objects never handed out), and a damaged slab is quarantined
    /// as the default paths would. Objects in magazines, depots and arrays are counted in use by their slab, as the
    /// default paths count them. Caller holds the list lock.
    /// </summary>
    private void ValidateSlabHardened(Slab* slab, ref int errors)
    {
        FreePointer fp = Cache.Fast.Fp;
        if (slab->Objects > Layout.ObjectsPerSlab || slab->InUse > slab->Objects || slab->Bump > slab->Objects)
        {
            Quarantine(slab, SlabErrorKind.CountCorrupt, null, 0, $"objects={slab->Objects} inuse={slab->InUse} handed out={slab->Bump}: impossible for {Layout.ObjectsPerSlab} objects a slab");
            errors++;
            return;
        }
        int listed = 0;
        for (byte* p = slab->Freelist; p != null;)
        {
            if (!IsFreedObject(slab, p) || listed >= slab->Bump)
            {
                Quarantine(slab, SlabErrorKind.FreechainCorrupt, null, 0, listed >= slab->Bump ? "Freechain corrupt: longer than the objects handed out (a loop)" : "Freepointer corrupt");
                errors++;
                return;
            }
            listed++;
            ulong word = *fp.Word(p);
            byte* next = (byte*)fp.Decode(p, word);
            if (next == fp.End(p))
                break;
            if (next == p || !IsFreedObject(slab, next))
            {
                Quarantine(slab, SlabErrorKind.FreechainCorrupt, p, word, "Freechain corrupt");
                errors++;
                return;
            }
            p = next;
        }
        int counted = slab->Objects - listed - (slab->Objects - slab->Bump);
        if (slab->InUse != counted)
        {
            Quarantine(slab, SlabErrorKind.CountCorrupt, null, 0, $"Wrong object count. Counter is {slab->InUse} but counted were {counted}");
            errors++;
            return;
        }
        byte* first = slab->Base + Layout.RedLeftPad;
        for (int i = slab->Bump; i < slab->Objects; i++)
        {
            byte* obj = first + (nint)i * Layout.Size;
            if (*fp.Word(obj) != fp.Key(obj))
            {
                Quarantine(slab, SlabErrorKind.ObjectOverwritten, obj, *fp.Word(obj), "Object overwritten before it was ever handed out");
                errors++;
                return;
            }
        }
    }

    /// <summary>
    /// Which objects of <paramref name="slab"/> are free (<c>__fill_map</c>): those on its freelist and those never handed
    /// out; for a cache without debug flags also those in a caching layer (they carry the free mark); in a quarantined
    /// slab, whose freelist was dropped, those whose free pointer word marks them free. Caller holds the list lock.
    /// </summary>
    private void FreeMap(Slab* slab, Span<ulong> bits)
    {
        bits.Clear();
        FreePointer fp = Cache.Fast.Fp;
        SlabLayout l = Layout;
        byte* first = slab->Base + l.RedLeftPad;
        int objects = Math.Min((int)slab->Objects, l.ObjectsPerSlab);
        if (slab->List == SlabList.Quarantined)
        {
            for (int i = 0; i < objects; i++)
            {
                byte* obj = first + (nint)i * l.Size;
                if (i >= slab->Bump || fp.LooksFree(obj, *fp.Word(obj)))
                    bits[i >> 6] |= 1UL << i;
            }
            return;
        }
        int listed = 0;
        for (byte* p = slab->Freelist; p != null && IsFreedObject(slab, p) && listed < slab->Bump; listed++)
        {
            int i = SlabDebug.IndexOf(l, slab, p);
            bits[i >> 6] |= 1UL << i;
            byte* next = (byte*)fp.Decode(p, *fp.Word(p));
            p = next == fp.End(p) || next == p ? null : next;
        }
        for (int i = slab->Bump; i < objects; i++)
            bits[i >> 6] |= 1UL << i;
        if (!l.Debug)
        {
            for (int i = 0; i < slab->Bump && i < objects; i++)
            {
                byte* obj = first + (nint)i * l.Size;
                if (*fp.Word(obj) == fp.Key(obj))
                    bits[i >> 6] |= 1UL << i;
            }
        }
    }

    /// <summary>An allocated object as the live-object walk saw it: where, its slab, the size asked for, and its alloc track.</summary>
    public readonly record struct LiveObject(nuint Address, nuint Slab, long Offset, int RequestedSize, Track Allocated, string SlabInfo);

    /// <summary>
    /// Adds this node's allocated objects to <paramref name="into"/> until it holds <paramref name="limit"/>, counting
    /// them all in <paramref name="total"/>: every slab, quarantined ones too, each under the list lock taken for it
    /// alone. Exact when no other thread uses the cache; objects allocated or freed meanwhile may or may not be seen.
    /// </summary>
    public void CollectLive(List<LiveObject> into, int limit, ref long total)
    {
        var slabs = new List<nint>();
        using (ListLock.EnterScope())
        {
            foreach (nint head in new[] { (nint)SlabsPartial, (nint)SlabsFull, (nint)SlabsQuarantined })
                for (Slab* s = (Slab*)head; s != null; s = s->Next)
                    slabs.Add((nint)s);
        }
        SlabLayout l = Layout;
        bool tracked = (l.DebugFlags & SlabFlags.StoreUser) != 0;
        Span<ulong> free = stackalloc ulong[(l.ObjectsPerSlab + 63) / 64];
        foreach (nint p in slabs)
        {
            var slab = (Slab*)p;
            using (ListLock.EnterScope())
            {
                if (!(InService(slab) || (slab->List == SlabList.Quarantined && PageSource.PageOwnerOf(slab->Base) == Cache.Slot)) || slab->InUse == 0)
                    continue;
                FreeMap(slab, free);
                byte* first = slab->Base + l.RedLeftPad;
                string? info = null;
                int objects = Math.Min((int)slab->Objects, l.ObjectsPerSlab);
                for (int i = 0; i < objects; i++)
                {
                    if ((free[i >> 6] & (1UL << i)) != 0)
                        continue;
                    total++;
                    if (into.Count >= limit)
                        continue;
                    byte* obj = first + (nint)i * l.Size;
                    info ??= SlabDebug.SlabInfoLine(slab);
                    into.Add(new LiveObject((nuint)obj, (nuint)slab->Base, obj - slab->Base,
                        l.Debug ? SlabDebug.GetOrigSize(l, obj) : l.ObjectSize,
                        tracked ? *Track.Of(l, obj, TrackItem.Alloc) : default, info));
                }
            }
        }
    }
}
