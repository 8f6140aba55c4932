using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// The kernel's <c>raw_spinlock_t</c> for <c>list_lock</c>: one compare-and-swap to take, one store to release, no
/// owner bookkeeping (a <see cref="Lock"/> reads the managed thread id from thread-local storage on every enter).
/// Critical sections are bounded by a batch of objects; a waiter spins, then yields its core.
/// </summary>
internal sealed class RawSpinLock
{
    private int _held;

    /// <summary>Takes the lock for the scope of a <c>using</c> (<c>spin_lock</c> ... <c>spin_unlock</c>).</summary>
    public Scope EnterScope()
    {
        if (Interlocked.CompareExchange(ref _held, 1, 0) != 0)
            EnterContended();
        return new Scope(this);
    }

    private void EnterContended()
    {
        var spinner = new SpinWait();
        do
            spinner.SpinOnce(sleep1Threshold: -1);
        while (Volatile.Read(ref _held) != 0 || Interlocked.CompareExchange(ref _held, 1, 0) != 0);
    }

    /// <summary>Releases the lock when disposed.</summary>
    public readonly ref struct Scope(RawSpinLock owner)
    {
        public void Dispose() => Volatile.Write(ref owner._held, 0);
    }
}
