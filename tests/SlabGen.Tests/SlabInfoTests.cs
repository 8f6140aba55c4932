using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace SlabGen.Tests;

public unsafe class SlabInfoTests
{
    [Fact]
    public void The_table_has_the_kernels_header_and_one_row_per_cache_in_creation_order()
    {
        string name = TestSupport.Name("info");
        using var cache = SlabCache.Create(name, 100)!;
        var objs = Enumerable.Range(0, 50).Select(_ => (nint)cache.Alloc()).ToArray();
        try
        {
            CheckTable(name, cache);
        }
        finally
        {
            foreach (nint p in objs)
                cache.Free((void*)p);
        }
        var writer = new StringWriter();
        SlabInfo.Write(writer);
        Assert.Contains(name, writer.ToString());
    }

    private static void CheckTable(string name, SlabCache cache)
    {
        string[] lines = SlabInfo.Read().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("slabinfo - version: 2.1", lines[0]);
        Assert.Equal("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>", lines[1]);
        Assert.StartsWith("kmalloc-8 ", lines[2]);
        string row = lines.Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        SlabInfoRow r = cache.GetSlabInfo();
        Assert.Equal(r.ToString(), row);
        // cache_show: "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu"
        var m = Regex.Match(row, @"^(\S+)\s+(\d+) +(\d+) +(\d+) +(\d+) +(\d+) : tunables +(\d+) +(\d+) +(\d+) : slabdata +(\d+) +(\d+) +(\d+)$");
        Assert.True(m.Success, row);
        Assert.Equal(name.PadRight(17) + " ", row[..18]);
        Assert.Equal("104", m.Groups[4].Value);
        Assert.Equal(cache.ObjectsPerSlab.ToString(), m.Groups[5].Value);
        Assert.Equal("1", m.Groups[6].Value);
        Assert.Equal("120", m.Groups[7].Value);
        Assert.True(r.ActiveObjs >= 50 && r.NumObjs >= r.ActiveObjs);
        Assert.Equal(
            "kmalloc-64           123    456     64   64    1 : tunables  120   60    8 : slabdata      2      8      0",
            new SlabInfoRow("kmalloc-64", 123, 456, 64, 64, 1, 120, 60, 8, 2, 8, 0).ToString());
    }

    [Fact]
    public void Writing_a_line_retunes_the_named_cache()
    {
        string name = TestSupport.Name("apply");
        using var cache = SlabCache.Create(name, 64)!;
        SlabInfo.Apply($"{name} 40 10 3");
        Assert.Equal((40, 10, 3), (cache.Limit, cache.BatchCount, cache.SharedFactor));
        SlabInfo.Apply($"  {name}\t8   8 0 ");
        Assert.Equal((8, 8, 0), (cache.Limit, cache.BatchCount, cache.SharedFactor));
        Assert.Contains("no slab cache named", Assert.Throws<ArgumentException>(() => SlabInfo.Apply("no_such_cache 1 1 0")).Message);
        Assert.Throws<FormatException>(() => SlabInfo.Apply($"{name} 8 8"));
        Assert.Throws<FormatException>(() => SlabInfo.Apply($"{name} eight 8 0"));
        Assert.Contains(name, Assert.Throws<ArgumentException>(() => SlabInfo.Apply($"{name} 8 9 0")).Message);
        Assert.Equal((8, 8, 0), (cache.Limit, cache.BatchCount, cache.SharedFactor));
    }

    [Fact]
    public void Boot_brings_the_allocator_to_full_with_kmalloc_caches_first_and_tuned_late()
    {
        Assert.Equal(SlabState.Full, SlabAllocator.State);
        var names = SlabAllocator.Caches.Select(c => c.Name).Take(13).ToArray();
        Assert.Equal(new[]
        {
            "kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-96", "kmalloc-128", "kmalloc-192",
            "kmalloc-256", "kmalloc-512", "kmalloc-1k", "kmalloc-2k", "kmalloc-4k", "kmalloc-8k",
        }, names);
        // Made with boot arrays (limit 1) before the allocator was up; kmem_cache_init_late tuned them.
        SlabCache k64 = SlabAllocator.Find("kmalloc-64")!;
        Assert.Equal((120, 60), (k64.Limit, k64.BatchCount));
        SlabCache k8k = SlabAllocator.Find("kmalloc-8k")!;
        Assert.Equal((8, 4, 0), (k8k.Limit, k8k.BatchCount, k8k.SharedFactor));
    }
}
