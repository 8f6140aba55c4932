using System;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// The periodic reaper (<c>start_cpu_timer</c> + <c>cache_reap</c>): every <see cref="Interval"/> it walks the cache
/// chain and reaps each cache. Like the kernel's, a pass that finds the chain mutex taken is skipped.
/// </summary>
internal static class CacheReaper
{
    /// <summary><c>REAPTIMEOUT_AC</c>: two seconds.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(SlabConfig.DefaultReapIntervalMs);

    private static readonly Lock s_lock = new();
    private static Timer? s_timer;
    private static TimeSpan s_interval = SlabConfig.Current.ReapInterval;
    private static bool s_enabled = SlabConfig.Current.Reap;
    private static long s_passes;

    public static long Passes => Interlocked.Read(ref s_passes);

    public static bool Enabled
    {
        get => s_enabled;
        set
        {
            lock (s_lock)
            {
                s_enabled = value;
                Reschedule();
            }
        }
    }

    public static TimeSpan Interval
    {
        get => s_interval;
        set
        {
            if (value <= TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(nameof(value), value, "The reap interval must be positive.");
            lock (s_lock)
            {
                s_interval = value;
                Reschedule();
            }
        }
    }

    /// <summary>Called once the allocator is fully up.</summary>
    public static void Start()
    {
        lock (s_lock)
            Reschedule();
        MemoryPressure.Start(); // gen-2 GCs run passes too, harder under memory pressure
    }

    private static void Reschedule()
    {
        if (CacheChain.State != SlabState.Full)
            return;
        if (!s_enabled)
        {
            s_timer?.Dispose();
            s_timer = null;
            return;
        }
        // A tick queued before the timer was turned off can still arrive: it finds s_enabled clear and does nothing.
        s_timer ??= new Timer(static _ => { if (Volatile.Read(ref s_enabled)) MemoryPressure.TimerTick(); }, null, Timeout.Infinite, Timeout.Infinite);
        s_timer.Change(s_interval, s_interval);
    }

    /// <summary>One pass over every cache; returns the slabs given back. A background pass skips a busy chain.</summary>
    public static int ReapAll(bool blocking)
    {
        if (!blocking && !CacheChain.Mutex.TryEnter())
            return 0;
        if (blocking)
            CacheChain.Mutex.Enter();
        try
        {
            int freed = 0;
            foreach (SlabCache cache in CacheChain.Caches)
                freed += cache.ReapLocked();
            PageAlloc.PageSource.AgeResident();
            Interlocked.Increment(ref s_passes);
            return freed;
        }
        finally
        {
            CacheChain.Mutex.Exit();
        }
    }
}
