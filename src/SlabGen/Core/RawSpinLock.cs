using System.Diagnostics;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// The kernel's <c>raw_spinlock_t</c>: one compare-and-swap to take, one store to release, no owner bookkeeping in
/// release builds (a <see cref="Lock"/> reads the managed thread id from thread-local storage on every enter). Used
/// for <c>list_lock</c> and the depot lock, and, on a lock word in native memory, for each CPU's guard. Sections are
/// bounded by a batch of objects; a waiter spins, then yields its core, and if the wait goes on (the holder was
/// preempted, or a destroy holds every guard while it drains the cache) backs off to sleeping, so that a long wait
/// never burns a core. Debug builds record the holder and the lock order (<see cref="LockOrder"/>).
/// </summary>
internal sealed class RawSpinLock(LockOrder.Level level)
{
    private int _held;

#if DEBUG
    private int _owner;
#endif

    /// <summary>Takes the lock for the scope of a <c>using</c> (<c>spin_lock</c> ... <c>spin_unlock</c>).</summary>
    public Scope EnterScope()
    {
        LockOrder.Acquiring(level);
        Acquire(ref _held);
#if DEBUG
        _owner = System.Environment.CurrentManagedThreadId;
#endif
        return new Scope(this);
    }

    /// <summary>Debug builds: fails unless the calling thread holds the lock (<c>check_spinlock_acquired_node</c>).</summary>
    [Conditional("DEBUG")]
    public void AssertHeld()
    {
#if DEBUG
        Debug.Assert(Volatile.Read(ref _held) != 0 && _owner == System.Environment.CurrentManagedThreadId,
            $"caller must hold this {level}");
#endif
    }

    /// <summary><c>spin_lock</c> on any lock word.</summary>
    public static void Acquire(ref int word)
    {
        if (Interlocked.CompareExchange(ref word, 1, 0) != 0)
            AcquireContended(ref word);
    }

    /// <summary><c>spin_unlock</c> on any lock word.</summary>
    public static void Release(ref int word) => Volatile.Write(ref word, 0);

    private static void AcquireContended(ref int word)
    {
        var spinner = new SpinWait();
        do
            spinner.SpinOnce(); // spins, then yields, then sleeps 1 ms at a time
        while (Volatile.Read(ref word) != 0 || Interlocked.CompareExchange(ref word, 1, 0) != 0);
    }

    /// <summary>Releases the lock when disposed.</summary>
    public readonly ref struct Scope(RawSpinLock owner)
    {
        public void Dispose()
        {
#if DEBUG
            owner._owner = 0;
#endif
            Release(ref owner._held);
            LockOrder.Released(owner.Level);
        }
    }

    private LockOrder.Level Level => level;
}
