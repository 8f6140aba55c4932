using System;
using System.Collections.Generic;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// Every live cache in creation order under one mutex (<c>cache_chain</c> + <c>cache_chain_mutex</c>; SLUB's
/// <c>slab_caches</c> + <c>slab_mutex</c>), each cache's slot (its index in per-thread magazine tables and the
/// page source's owner table), and the boot sequence through <see cref="SlabState"/>.
/// </summary>
internal static class CacheChain
{
    /// <summary>Live caches at most; slot 0 is never used, so an owner table entry of 0 means "nobody".</summary>
    public const int MaxCaches = Policy.SlabLimits.MaxCaches;

    /// <summary><c>slab_mutex</c>: creation, destruction, tuning and reaping of caches take it (lock order level 1).</summary>
    public static readonly Lock Mutex = new();

    /// <summary>Takes <see cref="Mutex"/> for a <c>using</c> scope, in lock order.</summary>
    public static LockOrder.Scope Enter() => LockOrder.Enter(Mutex, LockOrder.Level.ChainMutex);

    /// <summary>Takes <see cref="Mutex"/> when <paramref name="blocking"/>, else only if it is free; release with <see cref="Exit"/>.</summary>
    public static bool TryEnter(bool blocking)
    {
        if (blocking)
            Mutex.Enter();
        else if (!Mutex.TryEnter())
            return false;
        LockOrder.Acquiring(LockOrder.Level.ChainMutex);
        return true;
    }

    /// <summary>Releases <see cref="Mutex"/> taken by <see cref="TryEnter"/>.</summary>
    public static void Exit()
    {
        LockOrder.Released(LockOrder.Level.ChainMutex);
        Mutex.Exit();
    }

    private static readonly List<SlabCache> s_chain = new();
    private static readonly SlabCache?[] s_bySlot = new SlabCache?[MaxCaches];
    private static readonly Stack<int> s_freeSlots = new();
    /// <summary>Slots reserved or in use: a slot goes back to <see cref="s_freeSlots"/> once, never twice.</summary>
    private static readonly bool[] s_slotTaken = new bool[MaxCaches];
    private static int s_nextSlot = 1;
    private static int s_nextTag;
    private static volatile SlabState s_state = SlabState.Down;

    public static SlabState State => s_state;

    /// <summary>The cache in <paramref name="slot"/>, or null.</summary>
    public static SlabCache? BySlot(int slot) => Volatile.Read(ref s_bySlot[slot]);

    /// <summary>Brings the allocator up once: <c>kmem_cache_init</c> then <c>kmem_cache_init_late</c>.</summary>
    public static void EnsureUp()
    {
        if (s_state != SlabState.Full)
            Boot();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Boot()
    {
        using (Enter())
        {
            if (s_state == SlabState.Down)
                KmemCacheInit();
        }
    }

    /// <summary><c>kmem_cache_init</c>: the kmalloc caches first, with boot-sized arrays, then <see cref="KmemCacheInitLate"/>.</summary>
    private static void KmemCacheInit()
    {
        s_state = SlabState.Partial;
        KmallocCaches.CreateAll(); // the first one made lets the rest be made: PARTIAL_NODE, then UP
        s_state = SlabState.Up;
        KmemCacheInitLate();
    }

    /// <summary>Marks the point in boot where the first kmalloc cache exists (<c>PARTIAL_NODE</c>).</summary>
    public static void FirstCacheMade()
    {
        if (s_state == SlabState.Partial)
            s_state = SlabState.PartialNode;
    }

    /// <summary><c>kmem_cache_init_late</c>: walk the chain and give every cache its tuned arrays.</summary>
    private static void KmemCacheInitLate()
    {
        foreach (SlabCache cache in s_chain)
            cache.EnableCpuCache();
        s_state = SlabState.Full;
        CacheReaper.Start();
        Diagnostics.SlabMeter.Start(); // slab_proc_init: the SlabGen meter, as /proc/slabinfo
    }

    /// <summary>A free slot and a new unique tag, or false when <see cref="MaxCaches"/> caches are live. Caller holds <see cref="Mutex"/>.</summary>
    public static bool TryReserveSlot(out int slot, out int tag)
    {
        tag = (int)((uint)Interlocked.Increment(ref s_nextTag) % Magazine.MaxTag) + 1; // 1 .. MaxTag, never 0 (dead)
        if (s_freeSlots.Count > 0)
            slot = s_freeSlots.Pop();
        else if (s_nextSlot < MaxCaches)
            slot = s_nextSlot++;
        else
        {
            slot = 0;
            return false;
        }
        System.Diagnostics.Debug.Assert(!s_slotTaken[slot], $"cache slot {slot} was free and taken at once");
        s_slotTaken[slot] = true;
        return true;
    }

    /// <summary>Returns a slot that <see cref="Add"/> never used. Caller holds <see cref="Mutex"/>.</summary>
    public static void UnreserveSlot(int slot) => FreeSlot(slot);

    /// <summary>
    /// Puts a slot back on the free list. A slot given back twice would be handed to two live caches at once, whose
    /// magazines would then share one entry of every thread's table: that is refused, whatever the caller's path.
    /// </summary>
    private static void FreeSlot(int slot)
    {
        if (!s_slotTaken[slot])
            throw new InvalidOperationException($"SlabGen: cache slot {slot} is given back twice (an allocator bug); it stays out of use.");
        s_slotTaken[slot] = false;
        s_freeSlots.Push(slot);
    }

    /// <summary>Links <paramref name="cache"/> at the end of the chain. Caller holds <see cref="Mutex"/>.</summary>
    public static void Add(SlabCache cache)
    {
        s_chain.Add(cache);
        Volatile.Write(ref s_bySlot[cache.Slot], cache);
    }

    /// <summary>Unlinks <paramref name="cache"/> and frees its slot. Caller holds <see cref="Mutex"/>.</summary>
    public static void Remove(SlabCache cache)
    {
        s_chain.Remove(cache);
        Volatile.Write(ref s_bySlot[cache.Slot], null);
        FreeSlot(cache.Slot);
    }

    /// <summary>The chain in creation order. Caller holds <see cref="Mutex"/>.</summary>
    public static List<SlabCache> Caches => s_chain;

    /// <summary>The cache named <paramref name="name"/>, or null. Caller holds <see cref="Mutex"/>.</summary>
    public static SlabCache? Find(string name)
    {
        foreach (SlabCache cache in s_chain)
            if (cache.Name == name)
                return cache;
        return null;
    }

    /// <summary>The cache that has <paramref name="name"/> as its name or as one of its aliases, or null. Caller holds <see cref="Mutex"/>.</summary>
    public static SlabCache? FindName(string name)
    {
        foreach (SlabCache cache in s_chain)
            if (cache.Name == name || cache.HasAlias(name))
                return cache;
        return null;
    }
}
