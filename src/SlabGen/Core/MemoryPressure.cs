using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using SlabGen.PageAlloc;

namespace SlabGen.Core;

/// <summary>How close the process is to the GC's high memory load threshold (ArrayPool's <c>Utilities.GetMemoryPressure</c>).</summary>
internal enum PressureLevel
{
    Low,
    Medium,
    High,
}

/// <summary>One reading of the memory load: what <see cref="GC.GetGCMemoryInfo()"/> reports after the last GC.</summary>
internal readonly record struct MemoryLoad(long LoadBytes, long HighThresholdBytes);

/// <summary>
/// Memory pressure, the kernel's shrinkers in SlabGen's terms: the reaper's passes get harder as the GC's memory load
/// nears its high memory load threshold (which honours a container's memory limit), and a gen-2 GC runs a pass too
/// (<see cref="Gen2GcCallback"/>, as <c>ArrayPool&lt;T&gt;.Shared</c> trims). The timer keeps reaping without any GC.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>low</term><description>one reaping pass (<c>cache_reap</c>): what the timer has always done.</description></item>
/// <item><term>medium</term><description><see cref="MediumPasses"/> passes back to back: untouched layers give back up
/// to three fifths of their limit, and the second page-source aging releases every resident free block.</description></item>
/// <item><term>high</term><description><see cref="HighPasses"/> passes, and every cache with no allocation or free since
/// the previous pass is shrunk (<c>kmem_cache_shrink</c>): its layers drained, its free slabs and resident blocks
/// given back to the OS at once.</description></item>
/// </list>
/// </remarks>
internal static class MemoryPressure
{
    public const int MediumPasses = 3;
    public const int HighPasses = 5;

    /// <summary>Test hook: replaces the GC's reading of the memory load (a test simulates 95% with it).</summary>
    internal static Func<MemoryLoad>? LoadOverride;

    /// <summary>Allocations + frees of each cache at the previous pass, to tell idle caches from busy ones.</summary>
    private static readonly ConditionalWeakTable<SlabCache, StrongBox<long>> s_seenOps = new();

    /// <summary>One trim at a time (the timer's and the GC's).</summary>
    private static readonly Lock s_trimLock = new();

    private static int s_started;
    private static int s_gcPassQueued;
    private static int s_lastGen2Count = -1;
    private static long s_lastTrim;
    private static long s_gcPasses;
    private static long s_shrunk;
    private static int s_lastLevel;

    /// <summary>Passes that a gen-2 GC started, done so far.</summary>
    public static long GcPasses => Interlocked.Read(ref s_gcPasses);

    /// <summary>Idle caches shrunk under high pressure so far.</summary>
    public static long Shrunk => Interlocked.Read(ref s_shrunk);

    /// <summary>The level the last trim ran at.</summary>
    public static PressureLevel LastLevel => (PressureLevel)Volatile.Read(ref s_lastLevel);

    /// <summary>Registers the gen-2 GC callback once, unless <c>SLABGEN_GC_REAP=0</c>. Called when the allocator is fully up.</summary>
    public static void Start()
    {
        if (SlabConfig.Current.GcReap && Interlocked.Exchange(ref s_started, 1) == 0)
        {
            s_lastGen2Count = GC.CollectionCount(2); // the young callback's first gen-0 or gen-1 GC is no gen-2 GC
            Gen2GcCallback.Register(OnGen2Gc);
        }
    }

    /// <summary>The memory load now (as of the last GC), or the test hook's.</summary>
    public static MemoryLoad ReadLoad()
    {
        Func<MemoryLoad>? hook = Volatile.Read(ref LoadOverride);
        if (hook != null)
            return hook();
        GCMemoryInfo info = GC.GetGCMemoryInfo();
        return new MemoryLoad(info.MemoryLoadBytes, info.HighMemoryLoadThresholdBytes);
    }

    /// <summary>The pressure level now, with the configured thresholds.</summary>
    public static PressureLevel Current()
        => LevelOf(ReadLoad(), SlabConfig.Current.PressureMediumPercent, SlabConfig.Current.PressureHighPercent);

    /// <summary>
    /// <paramref name="load"/> against <paramref name="mediumPercent"/> and <paramref name="highPercent"/> of its high
    /// threshold (ArrayPool's 70% and 90% by default). No threshold known yet (no GC so far) is low pressure.
    /// </summary>
    public static PressureLevel LevelOf(MemoryLoad load, int mediumPercent, int highPercent)
    {
        if (load.HighThresholdBytes <= 0 || load.LoadBytes <= 0)
            return PressureLevel.Low;
        if (load.LoadBytes * 100 >= load.HighThresholdBytes * highPercent)
            return PressureLevel.High;
        if (load.LoadBytes * 100 >= load.HighThresholdBytes * mediumPercent)
            return PressureLevel.Medium;
        return PressureLevel.Low;
    }

    /// <summary>The reaper timer's pass (<c>cache_reap</c>), harder under pressure.</summary>
    public static int TimerTick() => Trim(Current(), blocking: false);

    /// <summary>
    /// One trim at <paramref name="level"/> (the kernel's <c>shrink_slab</c> over every cache): see the class remarks. A non-blocking trim (the timer's) gives up when
    /// another trim is running; a low one also when the chain mutex is taken, as the kernel's reaper does.
    /// </summary>
    /// <returns>Slabs given back to the page source.</returns>
    public static int Trim(PressureLevel level, bool blocking)
    {
        if (blocking)
            s_trimLock.Enter();
        else if (!s_trimLock.TryEnter())
            return 0;
        try
        {
            SlabCache[]? idle = SeeActivity(blocking);
            if (idle == null)
                return 0; // the chain is busy: the timer skips this pass, as cache_reap does
            int freed = 0;
            switch (level)
            {
                case PressureLevel.Low:
                    freed = CacheReaper.ReapAll(blocking);
                    break;
                case PressureLevel.Medium:
                    for (int pass = 0; pass < MediumPasses; pass++)
                        freed += CacheReaper.ReapAll(blocking: true);
                    break;
                default:
                    for (int pass = 0; pass < HighPasses; pass++)
                        freed += CacheReaper.ReapAll(blocking: true);
                    foreach (SlabCache cache in idle)
                    {
                        try
                        {
                            freed += cache.Shrink();
                            Interlocked.Increment(ref s_shrunk);
                        }
                        catch (ObjectDisposedException)
                        {
                            // Destroyed since the snapshot: nothing left to give back.
                        }
                    }
                    // Two agings in a row release every resident free block, the large kmalloc ones included.
                    PageSource.AgeResident();
                    PageSource.AgeResident();
                    break;
            }
            Volatile.Write(ref s_lastLevel, (int)level);
            Volatile.Write(ref s_lastTrim, Stopwatch.GetTimestamp());
            return freed;
        }
        finally
        {
            s_trimLock.Exit();
        }
    }

    /// <summary>
    /// Notes each cache's allocations and frees; returns those that had none since the previous pass, or null when
    /// the chain mutex is taken and <paramref name="blocking"/> is not set.
    /// </summary>
    private static SlabCache[]? SeeActivity(bool blocking)
    {
        SlabCache[] caches;
        if (!CacheChain.TryEnter(blocking))
            return null;
        try
        {
            caches = CacheChain.Caches.ToArray();
        }
        finally
        {
            CacheChain.Exit();
        }
        var idle = new System.Collections.Generic.List<SlabCache>();
        foreach (SlabCache cache in caches)
        {
            if (cache.IsDisposed)
                continue;
            SlabStatistics stats = cache.GetStatistics();
            long ops = stats.Allocations + stats.Frees;
            if (s_seenOps.TryGetValue(cache, out StrongBox<long>? seen))
            {
                if (seen.Value == ops)
                    idle.Add(cache);
                seen.Value = ops;
            }
            else
                s_seenOps.AddOrUpdate(cache, new StrongBox<long>(ops)); // first sight: treated as busy
        }
        return idle.ToArray();
    }

    /// <summary>On the finalizer thread after a GC: queues one pass on the thread pool (the work takes locks).</summary>
    private static bool OnGen2Gc()
    {
        int gen2 = GC.CollectionCount(2);
        if (gen2 == s_lastGen2Count)
            return true; // a gen-0 or gen-1 GC while the callback object was still young
        s_lastGen2Count = gen2;
        if (CacheReaper.Enabled && Interlocked.Exchange(ref s_gcPassQueued, 1) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(static _ => GcPass(), null);
        return true; // stay registered: reaping can be turned on again
    }

    private static void GcPass()
    {
        try
        {
            PressureLevel level = Current();
            // At low pressure a gen-2 GC adds a pass only when the timer's last one is half an interval old, so a
            // program that collects often does not reap its caches cold; under pressure every gen-2 GC counts.
            if (level != PressureLevel.Low || Stopwatch.GetElapsedTime(Volatile.Read(ref s_lastTrim)) >= CacheReaper.Interval / 2)
                Trim(level, blocking: true);
            Interlocked.Increment(ref s_gcPasses);
        }
        finally
        {
            Volatile.Write(ref s_gcPassQueued, 0);
        }
    }
}
