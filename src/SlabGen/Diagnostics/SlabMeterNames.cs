namespace SlabGen.Diagnostics;

/// <summary>
/// The names of the <c>SlabGen</c> meter's instruments and tags, after the OpenTelemetry naming conventions (as
/// Kestrel's <c>aspnetcore.memory_pool.*</c>). The runtime publishes them; dotnet-slabtop links this file to read them.
/// </summary>
internal static class SlabMeterNames
{
    /// <summary>The meter: <c>dotnet-counters monitor --counters SlabGen</c>.</summary>
    public const string Meter = "SlabGen";

    /// <summary>Tag on every per-cache instrument: the cache's slabinfo name.</summary>
    public const string CacheName = "slabgen.cache.name";

    /// <summary>Tag on <see cref="Allocations"/> and <see cref="Frees"/>: <see cref="Hit"/> or <see cref="Miss"/>.</summary>
    public const string Result = "slabgen.cache.result";
    public const string Hit = "hit";
    public const string Miss = "miss";

    /// <summary>Tag on <see cref="DepotExchanges"/>: <see cref="DepotGet"/> or <see cref="DepotPut"/>.</summary>
    public const string DepotOperation = "slabgen.cache.depot.operation";
    public const string DepotGet = "get";
    public const string DepotPut = "put";

    // Per cache, from its slabinfo row (SlabCache.GetSlabInfo).
    public const string ObjectsActive = "slabgen.cache.objects.active";
    public const string ObjectsTotal = "slabgen.cache.objects.total";
    public const string SlabsActive = "slabgen.cache.slabs.active";
    public const string SlabsTotal = "slabgen.cache.slabs.total";
    public const string MemoryUsage = "slabgen.cache.memory.usage";
    public const string SharedAvailable = "slabgen.cache.shared.available";
    public const string ObjectSize = "slabgen.cache.object.size";
    public const string SlabObjects = "slabgen.cache.slab.objects";
    public const string SlabPages = "slabgen.cache.slab.pages";

    // Per cache, from its STATS counters (SlabCache.GetStatistics).
    public const string Allocations = "slabgen.cache.allocations";
    public const string Frees = "slabgen.cache.frees";
    public const string RemoteFrees = "slabgen.cache.frees.remote";
    public const string DepotExchanges = "slabgen.cache.depot.exchanges";
    public const string SlabsQuarantined = "slabgen.cache.slabs.quarantined";
    public const string SlabsGrown = "slabgen.cache.slabs.grown";
    public const string SlabsReaped = "slabgen.cache.slabs.reaped";

    // The allocator as a whole (SlabAllocator).
    public const string Caches = "slabgen.caches";
    public const string PageMemory = "slabgen.memory.pages";
    public const string MetadataMemory = "slabgen.memory.metadata";
    public const string ResidentFreeMemory = "slabgen.memory.resident_free";
    public const string ReapPasses = "slabgen.reaper.passes";
}
