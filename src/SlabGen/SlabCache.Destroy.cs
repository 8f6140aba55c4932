using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Threading;
using SlabGen.Core;

namespace SlabGen;

// kmem_cache_destroy.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// Destroys the cache (<c>kmem_cache_destroy</c>): returns every slab to the page source and leaves the chain.
    /// It either refuses, leaving the cache usable, or succeeds with every object back: while it decides, no other
    /// thread can move objects between the cache's layers (every thread magazine is locked, and every CPU guard held),
    /// and once it has succeeded every later operation on the cache throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    /// <remarks>
    /// An <c>Alloc</c> on another thread that had already passed its magazine's ownership check when <c>Dispose</c>
    /// began either shows as an allocated object (and destroy refuses) or is undone, and throws
    /// <see cref="ObjectDisposedException"/> like every later call (see the magazine's handshake in docs/design.md).
    /// </remarks>
    /// <exception cref="InvalidOperationException">Objects are still allocated (the message names up to 16 of them, with
    /// where each was allocated when the cache has <see cref="SlabFlags.StoreUser"/>, and a report per slab lists them,
    /// as SLUB's <c>list_slab_objects</c> does), another thread is populating a slab, or the cache is a kmalloc cache or
    /// has aliases; the cache stays usable.</exception>
    public void Dispose()
    {
        List<KmemCacheNode.LiveObject>? leaks = null;
        long live = 0;
        using (CacheChain.Enter())
        {
            if (_disposed)
                return;
            ThrowIfPopulating(nameof(Dispose));
            if (_permanent)
                throw new InvalidOperationException($"slab cache '{Name}' is a kmalloc cache; it lives as long as the process.");
            if (_aliases.Count > 0)
                throw new InvalidOperationException($"slab cache '{Name}' still has {_aliases.Count} merged alias(es): {string.Join(", ", _aliases)}.");
            using (_magazines.Enter())
            {
                // Every magazine locked: fast paths go around it, slow paths wait for the magazine lock or a CPU guard.
                MagazineRegistry.Held magazines = _magazines.LockAll();
                for (int cpu = 0; cpu < _topology.CpuCount; cpu++)
                    CpuSlot.Acquire(_cpuSlots + cpu);
                bool destroyed = false;
                try
                {
                    if (Volatile.Read(ref _growing) > 0)
                        throw new InvalidOperationException(
                            $"slab cache '{Name}': cannot destroy: another thread is populating a new slab for it (it is still allocating).");
                    foreach (KmemCacheNode n in _nodes)
                        n.DrainDepot();
                    for (int cpu = 0; cpu < _topology.CpuCount; cpu++)
                        DrainArray(_cpuSlots + cpu, all: true);
                    foreach (KmemCacheNode n in _nodes)
                        n.DrainShared();
                    live = -magazines.Cached;
                    foreach (KmemCacheNode n in _nodes)
                        live += n.InUseObjects();
                    if (live > 0)
                    {
                        // Refused: which objects are still out, found while nothing can move (list_slab_objects); they
                        // are reported and named once every lock is released.
                        leaks = new List<KmemCacheNode.LiveObject>(LeakListLimit);
                        long found = 0;
                        foreach (KmemCacheNode n in _nodes)
                            n.CollectLive(leaks, LeakListLimit, ref found);
                    }
                    else
                    {
                        _disposed = true;
                        _magazines.DestroyHeld(magazines);
                        FreeArrays();
                        destroyed = true;
                    }
                }
                finally
                {
                    if (!destroyed)
                        MagazineRegistry.Unlock(magazines); // refused: each magazine as it was
                    // Waiting slow paths go on: against a live cache if destroy refused, else into ObjectDisposedException.
                    for (int cpu = _topology.CpuCount - 1; cpu >= 0; cpu--)
                        CpuSlot.Release(_cpuSlots + cpu);
                }
            }
            if (leaks == null)
            {
                foreach (KmemCacheNode n in _nodes)
                {
                    n.DrainFreelist(int.MaxValue);
                    n.ReleaseQuarantine();
                }
                _pages.Close();
                Debug.Assert(_pages.Blocks == 0, $"slab cache '{Name}': {_pages.Blocks} blocks left after destroy");
                CacheChain.Remove(this);
            }
        }
        if (leaks != null)
            RefuseDestroy(live, leaks);
        SlabErrors.Flush();
    }

    /// <summary>Allocated objects a refused destroy names at most, in its exception and its reports.</summary>
    internal const int LeakListLimit = 16;

    /// <summary>
    /// A destroy that found objects still allocated: reports them per slab in the kernel's form
    /// (<c>list_slab_objects</c>: "Objects remaining in &lt;cache&gt; on __kmem_cache_shutdown()", each object's address
    /// and, with U, its allocation track) and throws, naming up to <see cref="LeakListLimit"/> of them. Called with no
    /// allocator lock held.
    /// </summary>
    private void RefuseDestroy(long live, List<KmemCacheNode.LiveObject> leaks)
    {
        bool tracked = (Flags & SlabFlags.StoreUser) != 0;
        long now = Environment.TickCount64;
        var message = new StringBuilder($"slab cache '{Name}': cannot destroy: {live} object{(live == 1 ? " is" : "s are")} still allocated:");
        SlabReport? report = null;
        nuint slab = 0;
        foreach (KmemCacheNode.LiveObject leak in leaks)
        {
            if (report == null || leak.Slab != slab)
            {
                report?.Queue();
                slab = leak.Slab;
                report = new SlabReport(this, SlabErrorKind.ObjectsRemaining, $"Objects remaining in {Name} on __kmem_cache_shutdown()") { Slab = slab };
                report.Info(leak.SlabInfo);
            }
            report.Info($"Object 0x{leak.Address:x} @offset={leak.Offset}").CountExtra(1);
            message.Append($"\n  0x{leak.Address:x}");
            if (tracked)
            {
                leak.Allocated.Print(report, "Allocated", now);
                leak.Allocated.Describe(message.Append(' '), "allocated", now, "      ");
            }
        }
        if (live > leaks.Count)
        {
            report?.Info($"... and {live - leaks.Count} more");
            message.Append($"\n  ... and {live - leaks.Count} more");
        }
        report?.Queue();
        if (!tracked && leaks.Count > 0)
            message.Append($"\n(with SlabFlags.StoreUser, or SLABGEN_DEBUG=U,{Name}, each would say where it was allocated)");
        SlabErrors.Flush();
        throw new InvalidOperationException(message.ToString());
    }
}
