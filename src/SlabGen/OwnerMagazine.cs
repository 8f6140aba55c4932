using System;
using System.Numerics;
using System.Threading;

namespace SlabGen;

/// <summary>
/// One thread's returned block owners for one <see cref="SlabMemoryPool"/>: the pool's per-thread magazine (Bonwick
/// 2001), so that a rent and a return on one thread touch no shared memory and take no lock. Only the owning thread
/// reads or writes the entries; other threads read <see cref="Count"/>, and the pool drains the magazine of a thread
/// that has exited.
/// </summary>
/// <remarks>
/// The entries are a FIFO ring: a return appends at the tail, a rent takes the head once more than the pool's
/// <c>Quarantine</c> owners are waiting, so that an owner is handed out again only after that many others have been
/// returned after it on this thread (a stale reference to it is refused until then). A full ring gives its
/// <see cref="Batch"/> oldest to the pool's depot; a rent that finds nothing ready takes up to <see cref="Batch"/> from
/// the depot, which have served their quarantine already, and puts them at the head, ready (<see cref="_ready"/>):
/// so a thread that only returns (a pipe's reader) feeds a thread that only rents (its writer) a batch at a time.
/// </remarks>
internal sealed class OwnerMagazine
{
    /// <summary>Owners moved to or from the pool's depot at once.</summary>
    internal const int Batch = 16;

    /// <summary>The pool this magazine belongs to: a stale table entry (its pool disposed, the slot reused) fails this test.</summary>
    internal readonly SlabMemoryPool Pool;

    /// <summary>The thread that owns the entries.</summary>
    internal readonly Thread Owner;

    /// <summary>
    /// The owner thread's table of slab magazines, read once (as <see cref="SlabLocal"/> reads it): the pool allocates
    /// and frees its blocks through it with no second thread-local lookup. It stays put until the thread exits, and
    /// only the owner thread uses it.
    /// </summary>
    internal readonly unsafe nint* Table;

    private readonly SlabMemoryBlock?[] _ring;
    private readonly int _mask;
    private readonly int _quarantine;
    private int _head;
    private int _count;

    /// <summary>Entries at the head that came from the depot: ready whatever <see cref="_count"/> is.</summary>
    private int _ready;

    internal OwnerMagazine(SlabMemoryPool pool, int quarantine)
    {
        Pool = pool;
        Owner = Thread.CurrentThread;
        unsafe
        {
            Table = Core.ThreadMagazines.Table();
        }
        _quarantine = quarantine;
        _ring = new SlabMemoryBlock?[CapacityFor(quarantine)];
        _mask = _ring.Length - 1;
    }

    /// <summary>Owners held, quarantined or ready; read by other threads without a lock, exact once this thread is quiet.</summary>
    internal int Count => Volatile.Read(ref _count);

    /// <summary>
    /// The most owners a magazine of a pool with this quarantine holds, beyond those its thread has rented: room for
    /// the quarantine and two batches (so that a thread that rents and returns in turn never reaches the depot),
    /// rounded up to a power of two.
    /// </summary>
    internal static int CapacityFor(int quarantine) => (int)BitOperations.RoundUpToPowerOf2((uint)(quarantine + 2 * Batch));

    /// <summary>The oldest owner once it is ready, else a batch from the depot, else null. Owning thread only.</summary>
    internal SlabMemoryBlock? Take(OwnerDepot depot)
    {
        if (_count <= _quarantine && _ready == 0 && !Refill(depot))
            return null;
        int head = _head;
        SlabMemoryBlock owner = _ring[head]!;
        _ring[head] = null;
        _head = (head + 1) & _mask;
        _count--;
        if (_ready != 0)
            _ready--;
        return owner;
    }

    /// <summary>Appends a returned owner at the tail; a full ring first gives its oldest batch to the depot. Owning thread only.</summary>
    internal void Put(SlabMemoryBlock owner, OwnerDepot depot)
    {
        if (_count == _ring.Length)
            Spill(depot);
        _ring[(_head + _count) & _mask] = owner;
        _count++;
    }

    private bool Refill(OwnerDepot depot)
    {
        int room = _ring.Length - _count;
        int n = depot.Take(_ring, _head, _mask, Math.Min(room, Batch));
        if (n == 0)
            return false;
        _head = (_head - n) & _mask;
        _count += n;
        _ready += n;
        return true;
    }

    private void Spill(OwnerDepot depot)
    {
        depot.Give(_ring, _head, _mask, Batch);
        _head = (_head + Batch) & _mask;
        _count -= Batch;
        _ready = Math.Max(0, _ready - Batch);
    }

    /// <summary>
    /// The owning thread has exited: its ready owners (past their quarantine) go to <paramref name="depot"/>, the
    /// quarantined ones are dropped (never handed out again, so a stale reference to one stays refused). Returns
    /// how many were dropped. Caller holds the depot's lock.
    /// </summary>
    internal int DrainTo(OwnerDepot depot)
    {
        int ready = _ready + Math.Max(0, _count - _ready - _quarantine);
        for (int i = 0; i < _count; i++)
        {
            int at = (_head + i) & _mask;
            if (i < ready)
                depot.Add(_ring[at]!);
            _ring[at] = null;
        }
        int dropped = _count - ready;
        _count = 0;
        _ready = 0;
        _head = 0;
        return dropped;
    }
}
