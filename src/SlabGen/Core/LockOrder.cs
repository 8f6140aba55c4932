using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// Purpose: the allocator's lock order, written once and checked in debug builds (as lockdep checks the kernel's).
/// Lock order (taken in this order, never the other way round):
/// <list type="number">
/// <item><see cref="Level.ChainMutex"/>: <c>CacheChain.Mutex</c> (<c>slab_mutex</c>): create, destroy, tune, shrink, reap, slabinfo.</item>
/// <item><see cref="Level.MagazineLock"/>: a cache's <see cref="MagazineRegistry"/> lock: its magazine list and every stealer.</item>
/// <item>The magazine handshake, not a lock: a stealer locks magazine tags and waits for <c>InUse == 0</c>; an owner's
/// slow path sets <c>InUse</c> before it reads its tag and takes the locks below only inside that window.</item>
/// <item><see cref="Level.CpuGuard"/>: a CPU's guard (<see cref="CpuSlot"/>), standing in for disabled preemption;
/// destroy holds every CPU's at once, taken in CPU order.</item>
/// <item><see cref="Level.DepotLock"/>: a node's <see cref="KmemCacheNode.DepotLock"/>.</item>
/// <item><see cref="Level.ListLock"/>: a node's <see cref="KmemCacheNode.ListLock"/> (<c>list_lock</c>); one at a time.</item>
/// <item><see cref="Level.PageSource"/>: the page source's lock.</item>
/// <item><see cref="Level.PoolDepot"/>: a <see cref="SlabMemoryPool"/>'s owner depot (<see cref="OwnerDepot"/>), a leaf:
/// nothing is called while it is held.</item>
/// </list>
/// A ctor runs with none of them held, and so do damage reports, their handlers and slabinfo's writer.
/// </summary>
internal static class LockOrder
{
    /// <summary>The levels, in the order they are taken.</summary>
    public enum Level
    {
        ChainMutex = 1,
        MagazineLock = 2,
        CpuGuard = 4,
        DepotLock = 5,
        ListLock = 6,
        PageSource = 7,
        PoolDepot = 8,
    }

#if DEBUG
    [System.ThreadStatic] private static List<Level>? t_held;
#endif

    /// <summary>Debug builds: records that <paramref name="level"/> is being taken, and fails if a later level is held.</summary>
    [Conditional("DEBUG")]
    public static void Acquiring(Level level)
    {
#if DEBUG
        List<Level> held = t_held ??= new List<Level>();
        if (held.Count > 0)
        {
            Level top = held[^1];
            // Only CPU guards are held several at a time (destroy takes them all, in CPU order).
            Debug.Assert(top < level || (top == level && level == Level.CpuGuard),
                $"lock order: taking {level} while holding {top}");
        }
        held.Add(level);
#endif
    }

    /// <summary>Debug builds: records that <paramref name="level"/> was released.</summary>
    [Conditional("DEBUG")]
    public static void Released(Level level)
    {
#if DEBUG
        List<Level>? held = t_held;
        Debug.Assert(held != null && held.Contains(level), $"lock order: releasing {level}, which is not held");
        held!.RemoveAt(held.LastIndexOf(level));
#endif
    }

    /// <summary>Debug builds: fails unless this thread holds a lock of <paramref name="level"/>.</summary>
    [Conditional("DEBUG")]
    public static void AssertHeld(Level level)
    {
#if DEBUG
        Debug.Assert(t_held != null && t_held.Contains(level), $"caller must hold {level}");
#endif
    }

    /// <summary>Debug builds: fails when this thread holds any allocator lock (before a ctor, a report, a writer).</summary>
    [Conditional("DEBUG")]
    public static void AssertNoneHeld()
    {
#if DEBUG
        Debug.Assert(t_held == null || t_held.Count == 0, $"no allocator lock may be held here; held: {string.Join(", ", t_held ?? new List<Level>())}");
#endif
    }

    /// <summary>Takes <paramref name="mutex"/> at <paramref name="level"/> for a <c>using</c> scope.</summary>
    public static Scope Enter(Lock mutex, Level level)
    {
        Acquiring(level);
        mutex.Enter();
        return new Scope(mutex, level);
    }

    /// <summary>Releases a <see cref="Lock"/> taken by <see cref="Enter"/>.</summary>
    public readonly ref struct Scope(Lock mutex, Level level)
    {
        public void Dispose()
        {
            mutex.Exit();
            Released(level);
        }
    }
}
