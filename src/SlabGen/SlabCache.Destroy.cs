using System;
using System.Diagnostics;
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
    /// <exception cref="InvalidOperationException">Objects are still allocated, another thread is populating a slab, or
    /// the cache is a kmalloc cache or has aliases; the cache stays usable.</exception>
    public void Dispose()
    {
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
                    long live = -magazines.Cached;
                    foreach (KmemCacheNode n in _nodes)
                        live += n.InUseObjects();
                    if (live > 0)
                        throw new InvalidOperationException(
                            $"slab cache '{Name}': cannot destroy: {live} object{(live == 1 ? " is" : "s are")} still allocated.");
                    _disposed = true;
                    _magazines.DestroyHeld(magazines);
                    FreeArrays();
                    destroyed = true;
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
            foreach (KmemCacheNode n in _nodes)
            {
                n.DrainFreelist(int.MaxValue);
                n.ReleaseQuarantine();
            }
            _pages.Close();
            Debug.Assert(_pages.Blocks == 0, $"slab cache '{Name}': {_pages.Blocks} blocks left after destroy");
            CacheChain.Remove(this);
        }
        SlabErrors.Flush();
    }
}
