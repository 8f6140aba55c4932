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

    /// <summary>The longest interval a timer honours: <c>uint.MaxValue - 1</c> milliseconds (about 49.7 days).</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromMilliseconds(uint.MaxValue - 1.0);

    /// <summary>
    /// Time between passes. The timer counts whole milliseconds from 1 ms to <see cref="MaxInterval"/>: other values
    /// are refused, and a value with a fraction of a millisecond is kept as the whole milliseconds the timer will use,
    /// so the getter says what the timer does.
    /// </summary>
    public static TimeSpan Interval
    {
        get => s_interval;
        set
        {
            if (value < TimeSpan.FromMilliseconds(1) || value > MaxInterval)
                throw new ArgumentOutOfRangeException(nameof(value), value,
                    $"The reap interval must be between 1 ms and {MaxInterval.TotalDays:F1} days (the timer's range), got {value}.");
            TimeSpan whole = TimeSpan.FromMilliseconds(Math.Floor(value.TotalMilliseconds));
            lock (s_lock)
            {
                s_interval = whole;
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
        if (!CacheChain.TryEnter(blocking))
            return 0;
        try
        {
            int freed = 0;
            ThreadMagazines.ReclaimExited(); // exited threads' magazines and tables go back without a GC
            foreach (SlabCache cache in CacheChain.Caches)
                freed += cache.ReapLocked();
            PageAlloc.PageSource.AgeResident();
            Interlocked.Increment(ref s_passes);
            return freed;
        }
        finally
        {
            CacheChain.Exit();
            SlabErrors.Flush();
        }
    }
}
