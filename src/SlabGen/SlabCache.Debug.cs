using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

// The checked paths of a debug cache (one with ConsistencyChecks, RedZone, Poison, StoreUser or Trace): every
// allocation and free goes to the node's slabs under list_lock, one object at a time, as SLUB bypasses its per-CPU
// sheaves for such caches. Its fast path never succeeds (FastPath.NoMagazineTag, an object test that is always false),
// so the slow paths route here and no other cache runs a single extra instruction.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// The caller's stack in the depot when the cache keeps tracks (U) or traces (T), else 0. Taken first, with no lock
    /// held: it costs microseconds.
    /// </summary>
    private uint TakeStack() => (Flags & (SlabFlags.StoreUser | SlabFlags.Trace)) != 0 ? StackDepot.SaveCaller() : 0;

    /// <summary>
    /// An allocation of a debug cache (<c>___slab_alloc</c> for <c>kmem_cache_debug</c> caches): one object from the
    /// local node's slabs, checked and initialised (<see cref="KmemCacheNode.AllocSingle"/>), under the CPU's guard so
    /// that destroy sees it; the cache grows with no lock held when the node has none. <paramref name="requested"/> is
    /// a kmalloc request's size (0: the whole object).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void* DebugAlloc(int requested)
    {
        ThrowIfDisposed();
        ThrowIfPopulating(nameof(Alloc));
        uint handle = TakeStack();
        try
        {
            while (true)
            {
                int cpu = _topology.CurrentCpu();
                CpuSlot* slot = _cpuSlots + cpu;
                int growNode;
                using (CpuSlot.Enter(slot))
                {
                    ThrowIfDisposed();
                    byte* obj = _nodes[slot->Node].AllocSingle(requested, handle, cpu);
                    if (obj != null)
                    {
                        slot->AllocMiss++; // served by the slabs, as every debug allocation is
                        return obj;
                    }
                    Interlocked.Increment(ref _growing); // counted under the guard, as AllocFromCpu counts a grow
                    growNode = slot->Node;
                }
                CacheGrow(growNode);
            }
        }
        finally
        {
            SlabErrors.Flush();
        }
    }

    /// <summary>
    /// A free of a debug cache (<c>free_to_partial_list</c>): the pointer must be an object of this cache
    /// (<see cref="ThrowNotOurs"/> otherwise, without reading its memory), then <see cref="KmemCacheNode.FreeSingle"/>
    /// checks and frees it under its node's list lock, inside the CPU's guard.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DebugFree(void* obj)
    {
        ThrowIfDisposed();
        ThrowIfPopulating(nameof(Free));
        if (!IsDebugObject(obj))
            ThrowNotOurs(obj);
        uint handle = TakeStack();
        KmemCacheNode n = NodeOf(obj);
        Slab* destroy = null;
        try
        {
            int cpu = _topology.CurrentCpu();
            CpuSlot* slot = _cpuSlots + cpu;
            using (CpuSlot.Enter(slot))
            {
                ThrowIfDisposed();
                n.FreeSingle((byte*)obj, handle, cpu, ref destroy);
                slot->FreeMiss++;
                if (n.Id != slot->Node)
                    slot->RemoteFrees++;
            }
            n.SlabsDestroy(destroy);
        }
        finally
        {
            SlabErrors.Flush();
        }
    }

    /// <summary>
    /// <c>check_valid_pointer</c> for a debug cache, whose fast path's test refuses everything: <paramref name="obj"/> is
    /// an object start of a live slab of this cache. Reads only the page source's tables and the slab's descriptor.
    /// </summary>
    internal bool IsDebugObject(void* obj)
    {
        nuint off = (nuint)obj - (nuint)PageSource.Base;
        if (off >= PageSource.ReserveBytes || PageSource.PageOwner[off >> PageSource.PageShift] != Fast.Slot)
            return false;
        Slab* slab = SlabOf(obj);
        return _layout.IsSlotBelow((nuint)((byte*)obj - (slab->Base + _layout.RedLeftPad)), _layout.ObjectsPerSlab);
    }

    /// <summary>
    /// <c>kmem_cache_free_bulk</c> for a debug cache: every pointer is checked (an object of this cache, listed once,
    /// allocated now) before any is freed, then each is freed as <see cref="Free"/> frees it.
    /// </summary>
    private void DebugFreeBulk(ReadOnlySpan<nint> objects)
    {
        var seen = new HashSet<nint>();
        foreach (nint p in objects)
        {
            if (p == 0)
                continue;
            if (!IsDebugObject((void*)p))
                ThrowNotOurs((void*)p);
            if (!seen.Add(p))
                throw new DoubleFreeException(Name, (nuint)p,
                    $"slab cache '{Name}': double free of 0x{(nuint)p:x}: it appears twice in one FreeBulk call; nothing was freed.");
            DebugCheckAllocated((void*)p);
        }
        foreach (nint p in objects)
            if (p != 0)
                DebugFree((void*)p);
    }

    /// <summary>Throws as a free would when <paramref name="obj"/>, an object of this debug cache, is not allocated now; changes nothing otherwise.</summary>
    internal void DebugCheckAllocated(void* obj)
    {
        try
        {
            NodeOf(obj).RefuseFree((byte*)obj);
        }
        finally
        {
            SlabErrors.Flush();
        }
    }

    /// <summary>
    /// <c>__ksize</c> of an object of a debug kmalloc cache: the object size, and, as <c>skip_orig_size_check</c> does,
    /// the whole object becomes the request (a caller of ksize may use all of it), so its kmalloc red zone is gone.
    /// </summary>
    internal nuint DebugKsize(void* obj)
    {
        KmemCacheNode n = NodeOf(obj);
        using (n.ListLock.EnterScope())
            SlabDebug.SetOrigSize(_layout, (byte*)obj, _layout.ObjectSize);
        return (nuint)_layout.ObjectSize;
    }

    /// <summary>The size the kmalloc caller asked for (<c>get_orig_size</c>); the object size when the cache does not keep it.</summary>
    internal int DebugRequestedSize(void* obj)
    {
        KmemCacheNode n = NodeOf(obj);
        using (n.ListLock.EnterScope())
            return SlabDebug.GetOrigSize(_layout, (byte*)obj);
    }

    /// <summary>
    /// The in-place half of <c>__do_krealloc</c> for an object of a debug kmalloc cache that still holds
    /// <paramref name="newSize"/> bytes: with <paramref name="zero"/> the bytes past the old request up to the new one
    /// (or, when the cache does not keep the request, past the new size) are zeroed, then the new size becomes the
    /// request and, under Z, the bytes past it are red zone again (<c>test_krealloc_redzone_zeroing</c>). Under the list
    /// lock, so that <see cref="Validate"/> never sees it half done.
    /// </summary>
    internal void DebugReallocInPlace(void* obj, int newSize, bool zero)
    {
        var p = (byte*)obj;
        int ks = _layout.ObjectSize;
        KmemCacheNode n = NodeOf(obj);
        using (n.ListLock.EnterScope())
        {
            int orig = SlabDebug.GetOrigSize(_layout, p);
            if (zero)
            {
                if (orig < newSize)
                    new Span<byte>(p + orig, newSize - orig).Clear();
                else
                    new Span<byte>(p + newSize, ks - newSize).Clear();
            }
            if (_layout.TracksOrigSize)
            {
                SlabDebug.SetOrigSize(_layout, p, newSize);
                if ((_layout.DebugFlags & SlabFlags.RedZone) != 0 && newSize < ks)
                    new Span<byte>(p + newSize, ks - newSize).Fill(SlabDebug.RedActive);
            }
        }
    }
}
