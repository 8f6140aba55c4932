using System;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>Prints a cache's counters and slabinfo row at cleanup, so a surprising number can be traced in the log.</summary>
public static class CacheReport
{
    public static void Print(SlabCache cache, long invocations)
    {
        if (invocations == 0)
            return; // this case measured another peer
        SlabStatistics s = cache.GetStatistics();
        Console.WriteLine($"// {cache.Name}: {invocations} invocations; allochit {s.AllocHit} allocmiss {s.AllocMiss} freehit {s.FreeHit} "
            + $"freemiss {s.FreeMiss} grown {s.Grown} reaped {s.Reaped} remote {s.RemoteFrees}"
            + $"; slabs grown per invocation {(double)s.Grown / invocations:F1}");
        Console.WriteLine($"// slabinfo: {cache.GetSlabInfo()}");
    }
}
