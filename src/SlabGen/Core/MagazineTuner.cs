using System.Diagnostics;
using System.Threading;
using SlabGen.Policy;

namespace SlabGen.Core;

/// <summary>
/// Sizes a cache's magazines to its load, as Bonwick and Adams (2001, section 3.6) resize theirs and as
/// <c>enable_cpucache</c>'s own comment asks ("The numbers are guessed, we should auto-tune as described by
/// Bonwick"). The table's limit is where a cache starts. When its magazines run empty or full (and so exchange with
/// the depot or the per-CPU array) <see cref="GrowExchanges"/> times within <see cref="GrowWindow"/>, the working set
/// does not fit in a magazine and the limit doubles, up to <see cref="Tunables.AutoMaxLimit"/>; when two reap passes
/// in a row find the cache idle, it halves, back down to the table's value. A cache created with explicit tunables, or
/// re-tuned by <see cref="SlabCache.Tune"/>, is pinned and never resized.
/// </summary>
/// <remarks>
/// The exchange count is the only thing the allocation and free paths touch, and only their slow paths (once per
/// magazine's worth of operations per thread). A grow runs on the thread pool, through the same path as
/// <see cref="SlabCache.Tune"/>; a shrink runs in the reap pass.
/// </remarks>
internal sealed class MagazineTuner(int tableLimit, int maxLimit, bool pinned)
{
    /// <summary>Exchanges that, all within <see cref="GrowWindow"/>, make the limit double.</summary>
    public const int GrowExchanges = 64;

    /// <summary>The window <see cref="GrowExchanges"/> exchanges must fall in: 10 ms.</summary>
    public static readonly long GrowWindow = Stopwatch.Frequency / 100;

    /// <summary>Idle reap passes in a row after which the limit halves.</summary>
    public const int IdlePassesToShrink = 2;

    /// <summary>The limit <c>enable_cpucache</c>'s table gives the cache: the floor of every shrink.</summary>
    public readonly int TableLimit = tableLimit;

    /// <summary>The largest limit a grow may reach (<see cref="Tunables.AutoMaxLimit"/>).</summary>
    public readonly int MaxLimit = maxLimit;

    private volatile bool _pinned = pinned;
    private long _exchanges;
    private long _windowStart;
    private int _growQueued;
    private long _lastOps = -1;
    private int _idlePasses;
    private long _grows, _shrinks;

    /// <summary>The clock bursts are timed by (<see cref="Stopwatch.GetTimestamp"/>); read once per <see cref="GrowExchanges"/> exchanges. Tests freeze it.</summary>
    internal System.Func<long> Clock = Stopwatch.GetTimestamp;

    /// <summary>True from the exchange that queued a grow until the grow has run.</summary>
    public bool GrowQueued => Volatile.Read(ref _growQueued) != 0;

    /// <summary>True when the tunables were given explicitly (at creation or by <see cref="SlabCache.Tune"/>): no resizing.</summary>
    public bool Pinned => _pinned;

    /// <summary>Limit doublings so far.</summary>
    public long Grows => Interlocked.Read(ref _grows);

    /// <summary>Limit halvings so far.</summary>
    public long Shrinks => Interlocked.Read(ref _shrinks);

    /// <summary>Stops all resizing (an explicit <see cref="SlabCache.Tune"/>).</summary>
    public void Pin() => _pinned = true;

    /// <summary>
    /// Counts one magazine exchange at limit <paramref name="limit"/>; true when this one completes a burst of
    /// <see cref="GrowExchanges"/> within <see cref="GrowWindow"/> and the caller should queue <see cref="SlabCache.AutoGrow"/>
    /// (at most one is queued at a time).
    /// </summary>
    public bool NoteExchange(int limit)
    {
        if (_pinned || limit >= MaxLimit)
            return false;
        if (Interlocked.Increment(ref _exchanges) % GrowExchanges != 0)
            return false;
        long now = Clock();
        long start = Interlocked.Exchange(ref _windowStart, now);
        return now - start <= GrowWindow && Interlocked.CompareExchange(ref _growQueued, 1, 0) == 0;
    }

    /// <summary>The tunables a grow installs: twice the limit (at most <see cref="MaxLimit"/>), <c>enable_cpucache</c>'s batch for it; null when there is nothing to do.</summary>
    public Tunables? Grown(Tunables t)
    {
        if (_pinned || t.Limit >= MaxLimit)
            return null;
        int limit = System.Math.Min(2 * t.Limit, MaxLimit);
        return new Tunables(limit, Tunables.BatchCountFor(limit), t.SharedFactor);
    }

    /// <summary>A queued grow has run (installed or not): the next burst may queue another.</summary>
    public void GrowDone(bool grown)
    {
        if (grown)
            Interlocked.Increment(ref _grows);
        Interlocked.Exchange(ref _windowStart, 0); // a new window starts after the resize
        Volatile.Write(ref _growQueued, 0);
    }

    /// <summary>
    /// The reap pass's step, given the cache's operation count: the tunables a shrink installs when this is the
    /// <see cref="IdlePassesToShrink"/>th pass in a row with no operation and the limit is above the table's, else null.
    /// Caller holds the chain mutex.
    /// </summary>
    public Tunables? Reaped(Tunables t, long ops)
    {
        bool idle = ops == _lastOps;
        _lastOps = ops;
        _idlePasses = idle ? _idlePasses + 1 : 0;
        if (_pinned || _idlePasses < IdlePassesToShrink || t.Limit <= TableLimit)
            return null;
        _idlePasses = 0;
        int limit = System.Math.Max(t.Limit / 2, TableLimit);
        return new Tunables(limit, Tunables.BatchCountFor(limit), t.SharedFactor);
    }

    /// <summary>A shrink from <see cref="Reaped"/> was installed.</summary>
    public void Shrunk() => Interlocked.Increment(ref _shrinks);
}
