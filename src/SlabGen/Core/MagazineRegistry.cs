using System;
using System.Collections.Generic;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// Purpose: a cache's thread magazines: which thread has which (live or retired, until its owner frees it), the
/// counters of those already gone, and the steal protocol by which Tune, Shrink, the reaper and destroy take objects
/// back from magazines their owners may be using at that very moment (see <see cref="Magazine"/> and docs/design.md).
/// Everything here happens under <see cref="Enter"/> (lock order level 2), except the owner's own fast paths.
/// </summary>
internal sealed unsafe class MagazineRegistry(SlabCache cache)
{
    private readonly SlabCache _cache = cache;

    /// <summary>Guards <see cref="_magazines"/>, the retired counters and every stealer of a magazine.</summary>
    private readonly Lock _lock = new();

    /// <summary>Every thread magazine of the cache that its owner has not yet freed, live or retired, with the owner.</summary>
    private readonly List<(nint Magazine, Thread Owner)> _magazines = new();

    /// <summary>Hit counters of released magazines.</summary>
    private long _releasedAllocHit, _releasedFreeHit;

    /// <summary>Takes the registry's lock for a <c>using</c> scope.</summary>
    public LockOrder.Scope Enter() => LockOrder.Enter(_lock, LockOrder.Level.MagazineLock);

    private int Tag => _cache.Fast.Tag;

    /// <summary>Magazines not yet freed by their owners, live or retired.</summary>
    public int Count
    {
        get
        {
            using (Enter())
                return _magazines.Count;
        }
    }

    /// <summary>
    /// This thread's magazine for the cache, made on first use (with the cache's current limit); null while a stealer
    /// holds it, or once the cache is destroyed. A retired magazine gives back what the stealer left in it and is
    /// replaced; a dead one (left by an earlier cache in this slot) is freed and replaced.
    /// </summary>
    public Magazine* Own()
    {
        System.Diagnostics.Debug.Assert(!_cache.IsDebug, $"slab cache '{_cache.Name}': a debug cache has no magazines");
        int slot = _cache.Fast.Slot;
        Magazine* old = ThreadMagazines.Get(slot);
        if (old != null)
        {
            int tag = Volatile.Read(ref old->Tag);
            if (tag == Tag)
                return old;
            if (tag == (Tag | Magazine.LockedBit))
                return null;
        }
        Magazine* m = null;
        using (Enter())
        {
            if (old != null && Volatile.Read(ref old->Tag) == (Tag | Magazine.RetiredBit))
                Release(old);
            if (!_cache.IsDisposed)
            {
                m = Magazine.Create(Tag, _cache.Limit);
                _magazines.Add(((nint)m, Thread.CurrentThread));
            }
        }
        if (old != null)
            ThreadMagazines.Remove(slot);
        if (m != null)
        {
            try
            {
                ThreadMagazines.Install(_cache, m);
            }
            catch
            {
                using (Enter())
                    Release(m);
                Magazine.Destroy(m);
                throw;
            }
        }
        return m;
    }

    /// <summary>
    /// Takes thread magazines away from their owners and drains them back to the slabs: all of them, or (for the
    /// reaper) those untouched since the last pass, which give back a fifth of their limit like <c>drain_array</c>.
    /// A magazine something was taken from is retired, and so is every magazine when <paramref name="retire"/> is set
    /// (its limit is out of date): its owner gives back what is left and makes a new one the next time it looks.
    /// Until then a retired magazine is untouched, and later passes take more of it. Caller holds the lock.
    /// </summary>
    public void Steal(bool all, bool retire = false)
    {
        LockOrder.AssertHeld(LockOrder.Level.MagazineLock);
        var live = new List<(nint Magazine, Thread Owner)>();
        var victims = new List<(nint Magazine, Thread Owner)>();
        var orphans = new List<nint>();
        foreach ((nint p, Thread owner) in _magazines)
        {
            var m = (Magazine*)p;
            if (!owner.IsAlive)
            {
                orphans.Add(p); // its thread has exited: nothing can be in flight, and nobody will come back for it
                continue;
            }
            if (Volatile.Read(ref m->Tag) != Tag)
            {
                victims.Add((p, owner)); // retired: its owner has not been back since
                continue;
            }
            long ops = Magazine.AllocHit(m->Count) + Magazine.FreeHit(m);
            bool untouched = ops == m->SeenOps;
            m->SeenOps = ops;
            if (all || (untouched && m->Avail > 0))
                live.Add((p, owner));
        }
        foreach (nint p in orphans)
            Release((Magazine*)p);

        // Asymmetric Dekker: lock every live victim, make the stores visible to every CPU, wait out slow paths in flight.
        foreach ((nint p, _) in live)
            Volatile.Write(ref ((Magazine*)p)->Tag, Tag | Magazine.LockedBit);
        if (live.Count > 0)
            Interlocked.MemoryBarrierProcessWide();
        foreach ((nint p, _) in live)
            WaitForSlowPath((Magazine*)p);
        victims.AddRange(live);

        foreach ((nint p, Thread owner) in victims)
        {
            var m = (Magazine*)p;
            // This steal's one view of the magazine. A fast-path operation that read the tag before the barrier may still
            // be running: its free writes above the view, its allocation pops the top entry. Leave that entry, unless
            // the owner is this thread, so that the owner's next allocation is served without a slow path.
            long view = Volatile.Read(ref m->Count);
            Volatile.Write(ref m->StolenCount, view);
            int avail = Magazine.AvailOf(view);
            int top = owner == Thread.CurrentThread ? avail : Math.Max(avail - 1, m->Taken);
            int held = top - m->Taken;
            int toFree = all ? held : ArrayCache.ReapShare(m->Limit, held);
            if (toFree == 0 && !retire && m->Tag == (Tag | Magazine.LockedBit))
            {
                Volatile.Write(ref m->Tag, Tag); // nothing was taken: the owner keeps it
                continue;
            }
            _cache.FreeToNodes(Magazine.Entry(m) + m->Taken, toFree); // the oldest
            m->Taken += toFree;
            Volatile.Write(ref m->Tag, Tag | Magazine.RetiredBit);
        }
    }

    /// <summary>
    /// Waits until the owner of a magazine locked by this stealer is out of its slow path. A slow path in flight is
    /// usually a few hundred instructions from done; one that waits on a contended lock or is preempted can take longer,
    /// so the wait backs off to sleeping rather than burn a core.
    /// </summary>
    private static void WaitForSlowPath(Magazine* m)
    {
        var spinner = new SpinWait();
        while (Volatile.Read(ref m->InUse) != 0)
            spinner.SpinOnce();
    }

    /// <summary>
    /// Gives back what a magazine still holds, banks its counters, forgets it and marks it dead (its owner frees it).
    /// Its owner is this thread, or has exited, or the cache is being destroyed. Caller holds the lock.
    /// </summary>
    public void Release(Magazine* m) => Release(m, Volatile.Read(ref m->Count));

    /// <summary>
    /// <see cref="Release(Magazine*)"/> from the view <paramref name="view"/> of its <see cref="Magazine.Count"/>:
    /// every entry the view holds is taken (<see cref="Magazine.Taken"/> says so, for an allocation in flight that popped
    /// one of them; see <see cref="FastPath.CommitAlloc"/>). Caller holds the lock.
    /// </summary>
    private void Release(Magazine* m, long view)
    {
        LockOrder.AssertHeld(LockOrder.Level.MagazineLock);
        int avail = Magazine.AvailOf(view);
        _cache.FreeToNodes(Magazine.Entry(m) + m->Taken, avail - m->Taken);
        m->Taken = avail;
        Volatile.Write(ref m->StolenCount, view);
        _releasedAllocHit += Magazine.AllocHit(view);
        _releasedFreeHit += Magazine.AllocHit(view) + avail - m->In + m->Out;
        Volatile.Write(ref m->Tag, 0);
        _magazines.RemoveAt(_magazines.FindIndex(e => e.Magazine == (nint)m));
    }

    /// <summary>Gives an exited thread's magazine back (the owner can no longer run). Takes the lock.</summary>
    public void ReleaseExited(Magazine* m)
    {
        using (Enter())
        {
            if (Volatile.Read(ref m->Tag) != 0)
                Release(m);
        }
    }

    /// <summary>
    /// Destroy's hold on the magazines: every one not yet freed, live or retired, is locked, the process-wide barrier
    /// makes that visible, slow paths in flight are waited out, and each magazine's count is read once. While the
    /// magazines stay locked their owners' fast paths go around them, and an allocation in flight that popped an
    /// entry waits to hear whether it keeps it (<see cref="FastPath.CommitAlloc"/>). Exited owners' magazines are given
    /// back at once. End the hold with <see cref="DestroyHeld"/> or <see cref="Unlock"/>. Caller holds the lock.
    /// </summary>
    public Held LockAll()
    {
        LockOrder.AssertHeld(LockOrder.Level.MagazineLock);
        foreach ((nint p, Thread owner) in _magazines.ToArray())
            if (!owner.IsAlive)
                Release((Magazine*)p);
        var held = new List<(nint Magazine, int Tag, long View)>(_magazines.Count);
        foreach ((nint p, _) in _magazines)
        {
            var m = (Magazine*)p;
            held.Add((p, Volatile.Read(ref m->Tag), 0));
            Volatile.Write(ref m->Tag, Tag | Magazine.LockedBit);
        }
        if (held.Count > 0)
            Interlocked.MemoryBarrierProcessWide();
        long cached = 0;
        for (int i = 0; i < held.Count; i++)
        {
            var m = (Magazine*)held[i].Magazine;
            WaitForSlowPath(m);
            long view = Volatile.Read(ref m->Count);
            Volatile.Write(ref m->StolenCount, view);
            held[i] = (held[i].Magazine, held[i].Tag, view);
            cached += Magazine.AvailOf(view) - m->Taken;
        }
        return new Held(held, cached);
    }

    /// <summary>The magazines <see cref="LockAll"/> holds, with their tags before and their views, and what the views hold.</summary>
    public readonly record struct Held(List<(nint Magazine, int Tag, long View)> Magazines, long Cached);

    /// <summary>Puts every magazine <see cref="LockAll"/> locked back as it was: destroy refused. Caller holds the lock.</summary>
    public static void Unlock(Held held)
    {
        foreach ((nint p, int tag, _) in held.Magazines)
            Volatile.Write(ref ((Magazine*)p)->Tag, tag);
    }

    /// <summary>
    /// Destroy goes on: every entry of every view goes back, top entries too, and every magazine is marked dead. An
    /// allocation in flight that popped one undoes its pop when it sees the magazine dead. Caller holds the lock.
    /// </summary>
    public void DestroyHeld(Held held)
    {
        foreach ((nint p, _, long view) in held.Magazines)
            Release((Magazine*)p, view);
    }

    /// <summary>Objects the thread magazines hold, live or retired. Takes the lock.</summary>
    public long Objects()
    {
        long objects = 0;
        using (Enter())
            foreach ((nint p, _) in _magazines)
                objects += Magazine.Held((Magazine*)p);
        return objects;
    }

    /// <summary>Allocations and frees served by magazines, live, retired and released. Takes the lock.</summary>
    public (long AllocHit, long FreeHit) Hits()
    {
        using (Enter())
        {
            long allocHit = _releasedAllocHit, freeHit = _releasedFreeHit;
            foreach ((nint p, _) in _magazines)
            {
                var m = (Magazine*)p;
                allocHit += Magazine.AllocHit(Volatile.Read(ref m->Count));
                freeHit += Magazine.FreeHit(m);
            }
            return (allocHit, freeHit);
        }
    }
}
