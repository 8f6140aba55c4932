using System;
using System.Threading;
using SlabGen.Core;
using SlabGen.Policy;

namespace SlabGen;

// Magazines sized to the load (Bonwick and Adams 2001, section 3.6): grown under exchange bursts, shrunk when idle.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// True while the cache sizes its magazines and per-CPU arrays to its load: <see cref="Limit"/> doubles (up to
    /// <see cref="AutoMaxLimit"/>) when threads keep running their magazines empty or full, and halves back toward
    /// <c>enable_cpucache</c>'s value when reap passes find the cache idle. False for a cache created with explicit
    /// <see cref="SlabCacheOptions.Limit"/>, <see cref="SlabCacheOptions.BatchCount"/> or
    /// <see cref="SlabCacheOptions.SharedFactor"/> (or the attribute's), and after <see cref="Tune"/>.
    /// </summary>
    public bool AutoTuned => !_tuner.Pinned;

    /// <summary>The largest <see cref="Limit"/> load can grow this cache to: a magazine of 128 KiB of objects (at most 4,096).</summary>
    public int AutoMaxLimit => _tuner.MaxLimit;

    /// <summary>The cache's magazine tuner (for tests: its clock and whether a grow is queued).</summary>
    internal MagazineTuner Tuner => _tuner;

    /// <summary>
    /// A slow path found this thread's magazine empty or full: counts the exchange, and queues a grow when the
    /// exchanges come in a burst (<see cref="MagazineTuner.NoteExchange"/>).
    /// </summary>
    private void NoteExchange()
    {
        if (_tuner.NoteExchange(_tunables.Limit))
            ThreadPool.UnsafeQueueUserWorkItem(static cache => cache.AutoGrow(), this, preferLocal: false);
    }

    /// <summary>
    /// Doubles the limit (<see cref="MagazineTuner.Grown"/>) through <see cref="TryInstallArrays"/>, as
    /// <see cref="Tune"/> would, unless the cache is gone, pinned or at its ceiling. Runs on the thread pool; false
    /// when nothing changed (an allocation failure leaves the cache as it was).
    /// </summary>
    internal bool AutoGrow()
    {
        bool grown = false;
        try
        {
            using (CacheChain.Enter())
            {
                if (!_disposed && _tuner.Grown(_tunables) is Tunables t)
                    grown = TryInstallArrays(t);
            }
        }
        catch (OutOfMemoryException)
        {
            // The new arrays' bookkeeping could not be allocated: the cache keeps its size.
        }
        finally
        {
            _tuner.GrowDone(grown);
            SlabErrors.Flush();
        }
        return grown;
    }

    /// <summary>
    /// The reap pass's resizing step: two idle passes in a row halve the limit (<see cref="MagazineTuner.Reaped"/>).
    /// Caller holds the chain mutex.
    /// </summary>
    private void AutoShrinkLocked()
    {
        SlabStatistics stats = GetStatistics();
        if (_tuner.Reaped(_tunables, stats.Allocations + stats.Frees) is Tunables t && TryInstallArrays(t))
            _tuner.Shrunk();
    }
}
