using System.Collections.Generic;
using System.Linq;
using SlabTop;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>dotnet-slabtop's screen and sort orders, against what procps' slabtop prints for the same numbers.</summary>
public class SlabTopScreenTests
{
    // Rows of a kernel's slabtop screen: OBJS ACTIVE OBJ-SIZE SLABS OBJ/SLAB CACHE-SIZE, one page per slab.
    private static readonly CacheRow BufferHead = new("buffer_head", 703560, 518344, 104, 18040, 18040, 39, 1, 72160L * 1024);
    private static readonly CacheRow Kmalloc16 = new("kmalloc-16", 20736, 20736, 16, 81, 81, 256, 1, 324L * 1024);
    private static readonly CacheRow Inode = new("ext4_inode_cache", 461160, 456150, 1088, 30744, 30744, 15, 4, 491904L * 1024);
    private static readonly CacheRow Empty = new("kmalloc-8k", 0, 0, 8192, 0, 0, 4, 8, 0);

    [Fact]
    public void A_row_has_slabtops_columns()
    {
        Assert.Equal("703560 518344  73%    0.10K  18040       39     72160K buffer_head", SlabTopText.Row(BufferHead));
        Assert.Equal(" 20736  20736 100%    0.02K     81      256       324K kmalloc-16", SlabTopText.Row(Kmalloc16));
        Assert.Equal("     0      0   0%    8.00K      0        4         0K kmalloc-8k", SlabTopText.Row(Empty));
        Assert.Equal("  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME", SlabTopText.ColumnHeader);
    }

    [Fact]
    public void The_summary_adds_up_the_rows()
    {
        var rows = new[] { BufferHead, Kmalloc16, Empty };
        Assert.Equal(new[]
        {
            " Active / Total Objects (% used)    : 539080 / 724296 (74.4%)",
            " Active / Total Slabs (% used)      : 18121 / 18121 (100.0%)",
            " Active / Total Caches (% used)     : 2 / 3 (66.7%)",
            " Active / Total Size (% used)       : 52968.31K / 71779.31K (73.8%)",
            " Minimum / Average / Maximum Object : 0.02K / 0.10K / 8.00K",
        }, SlabTopText.Summary(SlabSummary.Of(rows)));
        Assert.Equal(" Active / Total Caches (% used)     : 0 / 0 (0.0%)", SlabTopText.Summary(SlabSummary.Of(new List<CacheRow>())).ElementAt(2));
    }

    [Theory]
    [InlineData('a', "buffer_head ext4_inode_cache kmalloc-16 kmalloc-8k")]
    [InlineData('b', "kmalloc-16 buffer_head ext4_inode_cache kmalloc-8k")]
    [InlineData('c', "ext4_inode_cache buffer_head kmalloc-16 kmalloc-8k")]
    [InlineData('l', "ext4_inode_cache buffer_head kmalloc-16 kmalloc-8k")]
    [InlineData('v', "ext4_inode_cache buffer_head kmalloc-16 kmalloc-8k")]
    [InlineData('n', "buffer_head ext4_inode_cache kmalloc-16 kmalloc-8k")]
    [InlineData('o', "buffer_head ext4_inode_cache kmalloc-16 kmalloc-8k")]
    [InlineData('p', "kmalloc-8k ext4_inode_cache buffer_head kmalloc-16")]
    [InlineData('s', "kmalloc-8k ext4_inode_cache buffer_head kmalloc-16")]
    [InlineData('u', "kmalloc-16 ext4_inode_cache buffer_head kmalloc-8k")]
    public void Each_sort_key_orders_as_slabtops(char key, string expected)
    {
        var rows = new[] { Empty, Kmalloc16, BufferHead, Inode };
        Assert.Equal(expected, string.Join(' ', SortKey.Sort(rows, key).Select(r => r.Name)));
    }

    [Fact]
    public void Options_are_slabtops()
    {
        SlabTopOptions o = SlabTopOptions.Parse(new[] { "-p", "42", "-d", "0.5", "-s", "c", "-o" });
        Assert.Equal((42, 0.5, 'c', true), (o.ProcessId, o.Delay.TotalSeconds, o.Sort, o.Once));
        SlabTopOptions defaults = SlabTopOptions.Parse(new[] { "--process-id=7" });
        Assert.Equal((7, 3.0, 'o', false), (defaults.ProcessId, defaults.Delay.TotalSeconds, defaults.Sort, defaults.Once));
        Assert.Contains("delay '0'", Assert.Throws<System.FormatException>(() => SlabTopOptions.Parse(new[] { "-p", "1", "-d", "0" })).Message);
        Assert.Throws<System.FormatException>(() => SlabTopOptions.Parse(new[] { "-p", "1", "--bogus" }));
        Assert.Throws<System.FormatException>(() => SlabTopOptions.Parse(new[] { "-p" }));
        Assert.Throws<System.FormatException>(() => SlabTopOptions.Parse(new[] { "-p", "-3" }));
        Assert.True(SlabTopOptions.Parse(new[] { "--help" }).Help);
    }
}
