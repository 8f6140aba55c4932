using System;
using System.Collections.Generic;
using System.Threading;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

// Taking objects back from the caching layers: magazines, barns, per-CPU arrays and shared arrays; shrink and reap.
public sealed unsafe partial class SlabCache
{
    /// <summary>Guards <see cref="_magazines"/> and every stealer of a magazine.</summary>
    private readonly Lock _magazineLock = new();

    /// <summary>Every thread magazine of this cache that its owner has not yet freed, live or retired, with the owner.</summary>
    private readonly List<(nint Magazine, Thread Owner)> _magazines = new();

    /// <summary>Hit counters of released magazines.</summary>
    private long _retiredAllocHit, _retiredFreeHit;

    /// <summary>
    /// Takes thread magazines away from their owners and drains them back to the slabs: all of them, or (for the
    /// reaper) those untouched since the last pass, which give back a fifth of their limit like <c>drain_array</c>.
    /// A magazine something was taken from is retired, and so is every magazine when <paramref name="retire"/> is set
    /// (its limit is out of date): its owner gives back what is left and makes a new one the next time it looks.
    /// Until then a retired magazine is untouched, and later passes take more of it. Caller holds
    /// <see cref="_magazineLock"/>.
    /// </summary>
    private void StealMagazines(bool all, bool retire = false)
    {
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
            if (Volatile.Read(ref m->Tag) != Fast.Tag)
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
            ReleaseMagazine((Magazine*)p);

        // Asymmetric Dekker: lock every live victim, make the stores visible to every CPU, wait out slow paths in flight.
        foreach ((nint p, _) in live)
            Volatile.Write(ref ((Magazine*)p)->Tag, Fast.Tag | Magazine.LockedBit);
        if (live.Count > 0)
            Interlocked.MemoryBarrierProcessWide();
        foreach ((nint p, _) in live)
        {
            // A slow path in flight is usually a few hundred instructions from done; one that waits on a contended lock
            // or is preempted can take longer, so the wait backs off to sleeping rather than burn a core.
            var spinner = new SpinWait();
            while (Volatile.Read(ref ((Magazine*)p)->InUse) != 0)
                spinner.SpinOnce();
        }
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
            int toFree = all ? held : (m->Limit + 4) / 5; // drain_array_locked's share
            if (toFree > held)
                toFree = (held + 1) / 2;
            if (toFree == 0 && !retire && m->Tag == (Fast.Tag | Magazine.LockedBit))
            {
                Volatile.Write(ref m->Tag, Fast.Tag); // nothing was taken: the owner keeps it
                continue;
            }
            FreeToNodes(Magazine.Entry(m) + m->Taken, toFree); // the oldest
            m->Taken += toFree;
            Volatile.Write(ref m->Tag, Fast.Tag | Magazine.RetiredBit);
        }
    }

    /// <summary>
    /// Gives back what a magazine still holds, banks its counters, forgets it and marks it dead (its owner frees it).
    /// Its owner is this thread, or has exited, or the cache is being destroyed. Caller holds <see cref="_magazineLock"/>.
    /// </summary>
    private void ReleaseMagazine(Magazine* m) => ReleaseMagazine(m, Volatile.Read(ref m->Count));

    /// <summary>
    /// <see cref="ReleaseMagazine(Magazine*)"/> from the view <paramref name="view"/> of its <see cref="Magazine.Count"/>:
    /// every entry the view holds is taken (<see cref="Magazine.Taken"/> says so, for an allocation in flight that
    /// popped one of them; see <see cref="FastPath.CommitAlloc"/>). Caller holds <see cref="_magazineLock"/>.
    /// </summary>
    private void ReleaseMagazine(Magazine* m, long view)
    {
        int avail = Magazine.AvailOf(view);
        FreeToNodes(Magazine.Entry(m) + m->Taken, avail - m->Taken);
        m->Taken = avail;
        Volatile.Write(ref m->StolenCount, view);
        _retiredAllocHit += Magazine.AllocHit(view);
        _retiredFreeHit += Magazine.AllocHit(view) + avail - m->In + m->Out;
        Volatile.Write(ref m->Tag, 0);
        _magazines.RemoveAt(_magazines.FindIndex(e => e.Magazine == (nint)m));
    }

    /// <summary>
    /// Destroy's hold on the magazines: every one not yet freed, live or retired, is locked, the process-wide barrier
    /// makes that visible, slow paths in flight are waited out, and each magazine's count is read once. While the
    /// magazines stay locked their owners' fast paths go around them, and an allocation in flight that popped an
    /// entry waits to hear whether it keeps it (<see cref="FastPath.CommitAlloc"/>). Exited owners' magazines are given
    /// back at once. Returns the magazines with their tags before and their views. Caller holds <see cref="_magazineLock"/>.
    /// </summary>
    private List<(nint Magazine, int Tag, long View)> LockMagazines()
    {
        foreach ((nint p, Thread owner) in _magazines.ToArray())
            if (!owner.IsAlive)
                ReleaseMagazine((Magazine*)p);
        var held = new List<(nint Magazine, int Tag, long View)>(_magazines.Count);
        foreach ((nint p, _) in _magazines)
        {
            var m = (Magazine*)p;
            held.Add((p, Volatile.Read(ref m->Tag), 0));
            Volatile.Write(ref m->Tag, Fast.Tag | Magazine.LockedBit);
        }
        if (held.Count > 0)
            Interlocked.MemoryBarrierProcessWide();
        for (int i = 0; i < held.Count; i++)
        {
            var m = (Magazine*)held[i].Magazine;
            var spinner = new SpinWait();
            while (Volatile.Read(ref m->InUse) != 0)
                spinner.SpinOnce();
            long view = Volatile.Read(ref m->Count);
            Volatile.Write(ref m->StolenCount, view);
            held[i] = (held[i].Magazine, held[i].Tag, view);
        }
        return held;
    }

    /// <summary>Called for an exited thread's magazine: gives its objects back (the owner can no longer run).</summary>
    internal void RetireMagazine(Magazine* m)
    {
        lock (_magazineLock)
        {
            if (Volatile.Read(ref m->Tag) != 0)
                ReleaseMagazine(m);
        }
        SlabErrors.Flush();
    }

    /// <summary>
    /// Drains every caching layer back to the slabs (<c>drain_cpu_caches</c>): thread magazines, barns, per-CPU
    /// arrays, shared arrays. Caller holds the chain mutex.
    /// </summary>
    private void DrainAll()
    {
        lock (_magazineLock)
            StealMagazines(all: true);
        DrainBarns();
        for (int cpu = 0; cpu < _topology.CpuCount; cpu++)
        {
            CpuSlot* slot = _cpuSlots + cpu;
            CpuSlot.Acquire(slot);
            try
            {
                DrainArray(slot->Ac, slot->Node, all: true);
            }
            finally
            {
                CpuSlot.Release(slot);
            }
        }
        DrainShared();
    }

    /// <summary>Gives every node's shared array back to its slabs. Part of <c>drain_cpu_caches</c>.</summary>
    private void DrainShared()
    {
        foreach (KmemCacheNode n in _nodes)
        {
            Slab* destroy = null;
            using (n.ListLock.EnterScope())
            {
                if (n.Shared != null)
                {
                    FreeBlock(n, ArrayCache.Entry(n.Shared), n.Shared->Avail, ref destroy);
                    n.Shared->Avail = 0;
                }
            }
            SlabsDestroy(destroy);
        }
    }

    /// <summary>
    /// Gives part (or all) of an array back to its node's slabs (<c>drain_array_locked</c>): a fifth of its limit,
    /// or half of what it holds when that is less. Caller holds the array's guard.
    /// </summary>
    private void DrainArray(ArrayCache* ac, int nodeId, bool all)
    {
        if (ac == null || ac->Avail == 0)
            return;
        int toFree = all ? ac->Avail : (ac->Limit + 4) / 5;
        if (toFree > ac->Avail)
            toFree = (ac->Avail + 1) / 2;
        KmemCacheNode n = _nodes[nodeId];
        Slab* destroy = null;
        using (n.ListLock.EnterScope())
            FreeBlock(n, ArrayCache.Entry(ac), toFree, ref destroy);
        SlabsDestroy(destroy);
        ArrayCache.RemoveOldest(ArrayCache.Entry(ac), ref ac->Avail, toFree);
    }

    /// <summary>
    /// Drains every caching layer and gives every free slab back to the page source (<c>kmem_cache_shrink</c>), and
    /// the page source gives their memory back to the OS.
    /// </summary>
    /// <remarks>
    /// The calling thread's magazine and those of exited threads are emptied, and exited threads' magazine tables are
    /// unmapped. Each other live thread's magazine keeps
    /// its top object, which an allocation or free of that thread may be in the middle of using: the thread gives it
    /// back at its next operation on the cache, and once the thread has exited the next <c>Shrink</c> or reap takes it.
    /// </remarks>
    /// <returns>Slabs returned to the page source.</returns>
    public int Shrink()
    {
        int freed = 0;
        lock (CacheChain.Mutex)
        {
            ThrowIfDisposed();
            ThrowIfPopulating(nameof(Shrink));
            ThreadMagazines.ReclaimExited(); // exited threads' magazines and tables, of every cache
            DrainAll();
            foreach (KmemCacheNode n in _nodes)
                freed += DrainFreelist(n, int.MaxValue);
            PageSource.ReleaseResident(_pages);
        }
        SlabErrors.Flush();
        return freed;
    }

    /// <summary>Gives up to <paramref name="max"/> free slabs of node <paramref name="n"/> back to the page source (<c>drain_freelist</c>).</summary>
    private int DrainFreelist(KmemCacheNode n, int max)
    {
        Slab* destroy = null;
        using (n.ListLock.EnterScope())
        {
            for (int i = 0; i < max && n.SlabsFree != null; i++)
                DetachFreeSlab(n, ref destroy);
        }
        return SlabsDestroy(destroy);
    }

    /// <summary>
    /// One reaping pass over this cache (<c>cache_reap</c>): magazines, barns and per-CPU arrays untouched since the
    /// last pass give back part of their objects, shared arrays likewise, and nodes whose free slabs were not used give
    /// back a fifth of <c>free_limit</c>'s worth of them.
    /// </summary>
    /// <returns>Slabs returned to the page source.</returns>
    public int Reap()
    {
        ThrowIfPopulating(nameof(Reap));
        int freed;
        lock (CacheChain.Mutex)
            freed = ReapLocked();
        SlabErrors.Flush();
        return freed;
    }

    internal int ReapLocked()
    {
        if (_disposed)
            return 0;
        lock (_magazineLock)
            StealMagazines(all: false);
        ReapBarns();
        for (int cpu = 0; cpu < _topology.CpuCount; cpu++)
        {
            CpuSlot* slot = _cpuSlots + cpu;
            CpuSlot.Acquire(slot);
            try
            {
                ArrayCache* ac = slot->Ac;
                if (ac->Touched != 0)
                    ac->Touched = 0;
                else
                    DrainArray(ac, slot->Node, all: false);
            }
            finally
            {
                CpuSlot.Release(slot);
            }
        }
        int freed = 0;
        int num = _layout.ObjectsPerSlab;
        foreach (KmemCacheNode n in _nodes)
        {
            Slab* destroy = null;
            bool drainFree;
            long freeLimit;
            using (n.ListLock.EnterScope())
            {
                ArrayCache* shared = n.Shared;
                if (shared != null && shared->Avail > 0)
                {
                    if (shared->Touched != 0)
                        shared->Touched = 0;
                    else
                    {
                        int toFree = Math.Min(shared->Avail, (shared->Limit + 4) / 5);
                        FreeBlock(n, ArrayCache.Entry(shared), toFree, ref destroy);
                        ArrayCache.RemoveOldest(ArrayCache.Entry(shared), ref shared->Avail, toFree);
                    }
                }
                drainFree = !n.FreeTouched;
                n.FreeTouched = false;
                freeLimit = n.FreeLimit;
            }
            freed += SlabsDestroy(destroy);
            if (drainFree)
                freed += DrainFreelist(n, (int)((freeLimit + 5 * num - 1) / (5 * num)));
        }
        Interlocked.Add(ref _reaped, freed);
        return freed;
    }
}
