using System;
using System.Threading;
using SlabGen.Core;

namespace SlabGen;

/// <summary>
/// A <see cref="SlabMemoryPool"/>'s depot (Bonwick 2001): owners that have served their quarantine on the thread that
/// returned them, waiting for any thread's rent, and the list of the pool's per-thread magazines. Threads reach it a
/// batch at a time (<see cref="OwnerMagazine.Batch"/>), under one lock, a leaf (<see cref="LockOrder.Level.PoolDepot"/>):
/// while it is held only owner and magazine bookkeeping runs, never the allocator or another lock.
/// </summary>
internal sealed class OwnerDepot
{
    private readonly Lock _lock = new();
    private SlabMemoryBlock?[] _owners = new SlabMemoryBlock?[2 * OwnerMagazine.Batch];
    private int _count;
    private OwnerMagazine[] _magazines = new OwnerMagazine[4];
    private int _magazineCount;

    /// <summary>
    /// Moves up to <paramref name="max"/> owners into the free ring positions just before <paramref name="head"/>
    /// (<c>head - 1</c>, <c>head - 2</c>, ...); returns how many.
    /// </summary>
    internal int Take(SlabMemoryBlock?[] ring, int head, int mask, int max)
    {
        if (Volatile.Read(ref _count) == 0)
            return 0; // a racy peek: a rent that finds the depot empty makes a new owner without taking the lock
        using Scope scope = Enter();
        int n = Math.Min(_count, max);
        for (int i = 1; i <= n; i++)
        {
            ring[(head - i) & mask] = _owners[--_count];
            _owners[_count] = null;
        }
        return n;
    }

    /// <summary>Moves the <paramref name="n"/> ring entries from <paramref name="head"/> on here, clearing them.</summary>
    internal void Give(SlabMemoryBlock?[] ring, int head, int mask, int n)
    {
        using Scope scope = Enter();
        Reserve(n);
        for (int i = 0; i < n; i++)
        {
            int at = (head + i) & mask;
            _owners[_count++] = ring[at];
            ring[at] = null;
        }
    }

    /// <summary>Adds one owner (an exited thread's). Caller holds the lock through <see cref="Enter"/>.</summary>
    internal void Add(SlabMemoryBlock owner)
    {
        LockOrder.AssertHeld(LockOrder.Level.PoolDepot);
        Reserve(1);
        _owners[_count++] = owner;
    }

    /// <summary>
    /// Registers this thread's new magazine; magazines of threads that have exited are drained first (their ready
    /// owners kept here, their quarantined ones dropped). Returns how many owners were dropped.
    /// </summary>
    internal int Register(OwnerMagazine magazine)
    {
        using Scope scope = Enter();
        int dropped = 0, kept = 0;
        for (int i = 0; i < _magazineCount; i++)
        {
            OwnerMagazine m = _magazines[i];
            if (m.Owner.IsAlive)
                _magazines[kept++] = m;
            else
                dropped += m.DrainTo(this);
        }
        Array.Clear(_magazines, kept, _magazineCount - kept);
        _magazineCount = kept;
        if (_magazineCount == _magazines.Length)
            Array.Resize(ref _magazines, 2 * _magazines.Length);
        _magazines[_magazineCount++] = magazine;
        return dropped;
    }

    /// <summary>Owners waiting here and in every magazine: exact when no thread is renting or returning.</summary>
    internal long Waiting()
    {
        using Scope scope = Enter();
        long n = _count;
        for (int i = 0; i < _magazineCount; i++)
            n += _magazines[i].Count;
        return n;
    }

    /// <summary>Forgets every owner and magazine: the pool is destroyed (a magazine left in a thread's table fails its pool test).</summary>
    internal void Clear()
    {
        using Scope scope = Enter();
        Array.Clear(_owners);
        _count = 0;
        Array.Clear(_magazines);
        _magazineCount = 0;
    }

    private void Reserve(int n)
    {
        if (_count + n > _owners.Length)
            Array.Resize(ref _owners, Math.Max(2 * _owners.Length, _count + n));
    }

    internal Scope Enter()
    {
        LockOrder.Acquiring(LockOrder.Level.PoolDepot);
        _lock.Enter();
        return new Scope(this);
    }

    /// <summary>Releases the depot's lock at the end of a <c>using</c>.</summary>
    internal readonly ref struct Scope(OwnerDepot depot)
    {
        public void Dispose()
        {
            depot._lock.Exit();
            LockOrder.Released(LockOrder.Level.PoolDepot);
        }
    }
}
