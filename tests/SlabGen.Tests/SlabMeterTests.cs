using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using SlabGen.Diagnostics;
using Xunit;

namespace SlabGen.Tests;

/// <summary>Collects the SlabGen meter the way an exporter does: a MeterListener, one RecordObservableInstruments per reading.</summary>
internal sealed class SlabMeterReader : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(Instrument Instrument, long Value, Dictionary<string, string?> Tags)> _readings = new();

    public SlabMeterReader()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SlabMetrics.MeterName)
            {
                Instruments.Add(instrument);
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            _readings.Add((instrument, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString()))));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
            _readings.Add((instrument, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString()))));
        _listener.Start();
    }

    public List<Instrument> Instruments { get; } = new();

    /// <summary>One collection: every instrument's measurements, keyed by instrument name.</summary>
    public ILookup<string, (long Value, Dictionary<string, string?> Tags)> Collect()
    {
        _readings.Clear();
        _listener.RecordObservableInstruments();
        return _readings.ToLookup(r => r.Instrument.Name, r => (r.Value, r.Tags));
    }

    public void Dispose() => _listener.Dispose();
}

public unsafe class SlabMeterTests
{
    private static long Of(ILookup<string, (long Value, Dictionary<string, string?> Tags)> reading, string instrument,
        string cache, string? tag = null, string? tagValue = null)
    {
        var matches = reading[instrument]
            .Where(m => m.Tags.GetValueOrDefault(SlabMetrics.CacheNameTag) == cache
                        && (tag == null || m.Tags.GetValueOrDefault(tag) == tagValue))
            .ToList();
        Assert.True(matches.Count == 1, $"{instrument} for {cache} {tag}={tagValue}: {matches.Count} measurements");
        return matches[0].Value;
    }

    [Fact]
    public void The_meter_is_up_with_the_allocator_and_every_instrument_is_observable()
    {
        _ = SlabAllocator.State;
        Assert.NotNull(SlabMeter.Meter);
        using var reader = new SlabMeterReader();
        Assert.Equal(SlabMetrics.MeterName, SlabMeter.Meter!.Name);
        // Observable instruments are read on collection only: nothing on the allocation paths records anything.
        Assert.All(reader.Instruments, i => Assert.True(i.IsObservable, i.Name + " is not observable"));
        string[] expected =
        {
            SlabMeterNames.ObjectsActive, SlabMeterNames.ObjectsTotal, SlabMeterNames.SlabsActive, SlabMeterNames.SlabsTotal,
            SlabMeterNames.MemoryUsage, SlabMeterNames.SharedAvailable, SlabMeterNames.ObjectSize, SlabMeterNames.SlabObjects,
            SlabMeterNames.SlabPages, SlabMeterNames.Allocations, SlabMeterNames.Frees, SlabMeterNames.RemoteFrees,
            SlabMeterNames.DepotExchanges, SlabMeterNames.SlabsQuarantined, SlabMeterNames.SlabsGrown, SlabMeterNames.SlabsReaped, SlabMeterNames.Caches,
            SlabMeterNames.PageMemory, SlabMeterNames.MetadataMemory, SlabMeterNames.ResidentFreeMemory, SlabMeterNames.ReapPasses,
        };
        Assert.Equal(expected.OrderBy(n => n, StringComparer.Ordinal), reader.Instruments.Select(i => i.Name).OrderBy(n => n, StringComparer.Ordinal));
        Assert.All(reader.Instruments, i => Assert.False(string.IsNullOrEmpty(i.Unit), i.Name + " has no unit"));
        Assert.Equal("{object}", reader.Instruments.Single(i => i.Name == SlabMeterNames.ObjectsActive).Unit);
        Assert.Equal("By", reader.Instruments.Single(i => i.Name == SlabMeterNames.MemoryUsage).Unit);
    }

    [Fact]
    public void A_caches_series_match_its_slabinfo_row_and_statistics()
    {
        string name = TestSupport.Name("meter");
        using var cache = SlabCache.Create(name, 200)!;
        using var reader = new SlabMeterReader();
        nint[] objs = TestSupport.AllocMany(cache, 3 * cache.ObjectsPerSlab + 7);
        TestSupport.FreeAll(cache, objs.Take(objs.Length / 3));
        try
        {
            var reading = reader.Collect();
            SlabInfoRow row = cache.GetSlabInfo();
            SlabStatistics stats = cache.GetStatistics();
            Assert.True(row.ActiveObjs > 0 && stats.AllocMiss > 0 && stats.Grown > 0, "the cache is too idle to test: " + row);

            Assert.Equal(row.ActiveObjs, Of(reading, SlabMeterNames.ObjectsActive, name));
            Assert.Equal(row.NumObjs, Of(reading, SlabMeterNames.ObjectsTotal, name));
            Assert.Equal(row.ActiveSlabs, Of(reading, SlabMeterNames.SlabsActive, name));
            Assert.Equal(row.NumSlabs, Of(reading, SlabMeterNames.SlabsTotal, name));
            Assert.Equal(row.NumSlabs * row.PagesPerSlab * 4096L, Of(reading, SlabMeterNames.MemoryUsage, name));
            Assert.Equal(row.SharedAvail, Of(reading, SlabMeterNames.SharedAvailable, name));
            Assert.Equal(row.ObjSize, Of(reading, SlabMeterNames.ObjectSize, name));
            Assert.Equal(row.ObjPerSlab, Of(reading, SlabMeterNames.SlabObjects, name));
            Assert.Equal(row.PagesPerSlab, Of(reading, SlabMeterNames.SlabPages, name));

            Assert.Equal(stats.AllocHit, Of(reading, SlabMeterNames.Allocations, name, SlabMeterNames.Result, SlabMeterNames.Hit));
            Assert.Equal(stats.AllocMiss, Of(reading, SlabMeterNames.Allocations, name, SlabMeterNames.Result, SlabMeterNames.Miss));
            Assert.Equal(stats.FreeHit, Of(reading, SlabMeterNames.Frees, name, SlabMeterNames.Result, SlabMeterNames.Hit));
            Assert.Equal(stats.FreeMiss, Of(reading, SlabMeterNames.Frees, name, SlabMeterNames.Result, SlabMeterNames.Miss));
            Assert.Equal(stats.RemoteFrees, Of(reading, SlabMeterNames.RemoteFrees, name));
            Assert.Equal(stats.DepotGet, Of(reading, SlabMeterNames.DepotExchanges, name, SlabMeterNames.DepotOperation, SlabMeterNames.DepotGet));
            Assert.Equal(stats.DepotPut, Of(reading, SlabMeterNames.DepotExchanges, name, SlabMeterNames.DepotOperation, SlabMeterNames.DepotPut));
            Assert.Equal(stats.QuarantinedSlabs, Of(reading, SlabMeterNames.SlabsQuarantined, name));
            Assert.Equal(stats.Grown, Of(reading, SlabMeterNames.SlabsGrown, name));
            Assert.Equal(stats.Reaped, Of(reading, SlabMeterNames.SlabsReaped, name));
            Assert.Equal(objs.Length, stats.Allocations);
        }
        finally
        {
            TestSupport.FreeAll(cache, objs.Skip(objs.Length / 3));
        }

        // Reaped slabs move with the cache: reaping passes over the idle cache give its free slabs back.
        for (int pass = 0; pass < 20 && cache.GetStatistics().Reaped == 0; pass++)
            cache.Reap();
        var after = reader.Collect();
        Assert.Equal(cache.GetStatistics().Reaped, Of(after, SlabMeterNames.SlabsReaped, name));
        Assert.True(Of(after, SlabMeterNames.SlabsReaped, name) > 0);
        Assert.Equal(cache.GetSlabInfo().NumSlabs, Of(after, SlabMeterNames.SlabsTotal, name));
    }

    [Fact]
    public void A_cache_destroyed_between_two_collections_leaves_the_second()
    {
        string name = TestSupport.Name("meter_gone");
        var cache = SlabCache.Create(name, 48)!;
        using var reader = new SlabMeterReader();
        TestSupport.Churn(cache, 10);
        Assert.Equal(cache.GetSlabInfo().NumObjs, Of(reader.Collect(), SlabMeterNames.ObjectsTotal, name));
        cache.Dispose();
        var after = reader.Collect();
        Assert.All(after.SelectMany(g => g), m => Assert.NotEqual(name, m.Tags.GetValueOrDefault(SlabMetrics.CacheNameTag)));
        Assert.Contains(after[SlabMeterNames.ObjectsActive], m => m.Tags.GetValueOrDefault(SlabMetrics.CacheNameTag) == "kmalloc-64");
    }
}

/// <summary>The process totals move with every cache, so they are compared while no other test runs.</summary>
[Collection(SerialCollection.Name)]
public unsafe class SlabMeterTotalsTests
{
    [Fact]
    public void The_totals_match_the_allocators_own()
    {
        using var cache = SlabCache.Create(TestSupport.Name("meter_totals"), 1000)!;
        using var reader = new SlabMeterReader();
        nint[] objs = TestSupport.AllocMany(cache, 100);
        try
        {
            var reading = reader.Collect();
            Assert.Equal(SlabAllocator.PageBytes, reading[SlabMeterNames.PageMemory].Single().Value);
            Assert.Equal(SlabAllocator.MetadataBytes, reading[SlabMeterNames.MetadataMemory].Single().Value);
            Assert.Equal(SlabAllocator.ResidentFreeBytes, reading[SlabMeterNames.ResidentFreeMemory].Single().Value);
            Assert.Equal(SlabAllocator.ReapPasses, reading[SlabMeterNames.ReapPasses].Single().Value);
            Assert.Equal(SlabAllocator.Caches.Count, reading[SlabMeterNames.Caches].Single().Value);
            Assert.True(reading[SlabMeterNames.PageMemory].Single().Value >= cache.GetSlabInfo().NumSlabs * 4096L * cache.GetSlabInfo().PagesPerSlab);
            Assert.Equal(reading[SlabMeterNames.Caches].Single().Value, reading[SlabMeterNames.ObjectsTotal].Count());
        }
        finally
        {
            TestSupport.FreeAll(cache, objs);
        }
    }
}
