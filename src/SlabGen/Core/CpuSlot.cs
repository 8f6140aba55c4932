using System.Runtime.InteropServices;

namespace SlabGen.Core;

/// <summary>
/// Purpose: one CPU's place in a cache, padded to a cache line: the guard that stands in for the kernel's disabled
/// preemption (a thread can change CPU between any two instructions here), the pointer to the CPU's current
/// <see cref="ArrayCache"/> (swapped by <c>Tune</c>), and this CPU's STATS counters, all written under the guard.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal unsafe struct CpuSlot
{
    public int Lock;
    public int Node;
    public ArrayCache* Ac;
    public long AllocHit;
    public long AllocMiss;
    public long FreeHit;
    public long FreeMiss;
    public long RemoteFrees;

    /// <summary>Takes <paramref name="slot"/>'s guard for the scope of a <c>using</c> (<c>local_irq_save</c> ... <c>local_irq_restore</c>).</summary>
    public static Guard Enter(CpuSlot* slot)
    {
        Acquire(slot);
        return new Guard(slot);
    }

    public static void Acquire(CpuSlot* slot)
    {
        LockOrder.Acquiring(LockOrder.Level.CpuGuard);
        RawSpinLock.Acquire(ref slot->Lock);
    }

    public static void Release(CpuSlot* slot)
    {
        RawSpinLock.Release(ref slot->Lock);
        LockOrder.Released(LockOrder.Level.CpuGuard);
    }

    /// <summary>Releases a CPU guard when disposed.</summary>
    public readonly ref struct Guard(CpuSlot* slot)
    {
        public void Dispose() => Release(slot);
    }
}
