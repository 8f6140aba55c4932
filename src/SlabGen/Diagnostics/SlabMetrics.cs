namespace SlabGen;

/// <summary>
/// The allocator's <see cref="System.Diagnostics.Metrics.Meter"/>: every live cache's slabinfo row and STATS
/// counters, and the page source's totals, read when a listener collects (dotnet-counters, dotnet-slabtop,
/// OpenTelemetry's <c>AddMeter(SlabMetrics.MeterName)</c>). It exists as soon as the allocator is up; nothing on an
/// allocation path records anything.
/// </summary>
public static class SlabMetrics
{
    /// <summary>The meter's name, <c>SlabGen</c>.</summary>
    public const string MeterName = Diagnostics.SlabMeterNames.Meter;

    /// <summary>The tag that names the cache on every per-cache instrument, <c>slabgen.cache.name</c>.</summary>
    public const string CacheNameTag = Diagnostics.SlabMeterNames.CacheName;
}
