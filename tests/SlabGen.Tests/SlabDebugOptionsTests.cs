using System.Collections.Generic;
using System.IO;
using SlabGen.Core;
using Xunit;

namespace SlabGen.Tests;

/// <summary>
/// <c>SLABGEN_DEBUG</c> / <c>SlabGen.Debug</c> in the kernel's <c>slab_debug=</c> syntax (Documentation/mm/slub.rst),
/// parsed directly and through <see cref="SlabConfig.Load"/> with given sources, never the process's environment.
/// </summary>
public class SlabDebugOptionsTests
{
    private const SlabFlags F = SlabFlags.ConsistencyChecks, Z = SlabFlags.RedZone, P = SlabFlags.Poison, U = SlabFlags.StoreUser, T = SlabFlags.Trace;
    private const SlabFlags FZPU = F | Z | P | U;

    private static SlabDebugOptions Parse(string text)
    {
        Assert.True(SlabDebugOptions.TryParse(text, out SlabDebugOptions options, out string? problem), problem);
        Assert.Null(problem);
        return options;
    }

    [Theory]
    [InlineData("", FZPU)]          // the bare slab_debug: full debugging
    [InlineData("   ", FZPU)]
    [InlineData("FZPU", FZPU)]
    [InlineData("fzpu", FZPU)]      // letters in any case, as tolower() reads them
    [InlineData("FZ", F | Z)]
    [InlineData("T", T)]
    [InlineData("-", (SlabFlags)0)]
    [InlineData("FZ-P", P)]         // '-' clears what came before it
    [InlineData("P;FZ", F | Z)]     // the last block for every cache wins
    [InlineData(";;FZ;;", F | Z)]   // empty blocks are skipped
    public void Options_for_every_cache(string text, SlabFlags global)
    {
        SlabDebugOptions o = Parse(text);
        Assert.Equal(global, o.Global);
        Assert.Empty(o.Blocks);
        Assert.Equal(global, o.CacheFlags(0, "any_cache"));
    }

    [Fact]
    public void A_list_of_caches_with_globs_gets_the_options_and_nothing_else_changes()
    {
        SlabDebugOptions o = Parse("FZ,packet_cache,kmalloc-*");
        Assert.Equal((SlabFlags)0, o.Global); // a single list changes only the caches it names
        Assert.Equal(F | Z, o.CacheFlags(0, "packet_cache"));
        Assert.Equal(F | Z, o.CacheFlags(0, "kmalloc-64"));
        Assert.Equal(F | Z, o.CacheFlags(0, "kmalloc-"));
        Assert.Equal((SlabFlags)0, o.CacheFlags(0, "packet_cache2")); // no '*': the name exactly
        Assert.Equal((SlabFlags)0, o.CacheFlags(0, "kmalloc"));
        Assert.Equal(SlabFlags.HwCacheAlign, o.CacheFlags(SlabFlags.HwCacheAlign, "dentry"));
    }

    [Fact]
    public void An_empty_option_list_before_names_means_F_Z_P_U_for_them()
    {
        SlabDebugOptions o = Parse(",dentry");
        Assert.Equal((SlabFlags)0, o.Global);
        Assert.Equal(FZPU, o.CacheFlags(0, "dentry"));
        Assert.Equal((SlabFlags)0, o.CacheFlags(0, "inode"));
    }

    [Fact]
    public void Every_cache_but_some_with_a_dash_block()
    {
        SlabDebugOptions o = Parse("FZ;-,zs_handle,zspage");
        Assert.Equal(F | Z, o.Global);
        Assert.Equal((SlabFlags)0, o.CacheFlags(0, "zs_handle"));
        Assert.Equal((SlabFlags)0, o.CacheFlags(0, "zspage"));
        Assert.Equal(F | Z, o.CacheFlags(0, "dentry"));
        // A switch only adds: a cache created with a debug flag keeps it.
        Assert.Equal(Z, o.CacheFlags(Z, "zs_handle"));
    }

    [Fact]
    public void The_first_block_that_names_a_cache_wins()
    {
        SlabDebugOptions o = Parse("Z,dentry;U,kmalloc-*;P,dentry");
        Assert.Equal(Z, o.CacheFlags(0, "dentry"));
        Assert.Equal(U, o.CacheFlags(0, "kmalloc-8"));
        Assert.Equal((SlabFlags)0, o.CacheFlags(0, "inode"));
        Assert.Equal(3, o.Blocks.Count);
    }

    [Fact]
    public void A_scoped_name_matches_by_the_name_it_asked_for_too()
    {
        SlabDebugOptions o = Parse("U,connection");
        Assert.Equal(U, o.CacheFlags(0, "connection@LibB", "connection"));
        Assert.Equal((SlabFlags)0, o.CacheFlags(0, "connection@LibB"));
    }

    [Fact]
    public void O_drops_metadata_that_would_raise_a_cache_s_order()
    {
        SlabDebugOptions o = Parse("FZPUO");
        Assert.True(o.DisableHigherOrderDebug);
        Assert.Equal(FZPU, o.Global);
        Assert.False(Parse("FZPU").DisableHigherOrderDebug);
    }

    [Fact]
    public void A_star_alone_names_every_cache()
        => Assert.Equal(P, Parse("P,*").CacheFlags(0, "whatever"));

    [Theory]
    [InlineData("X", "unknown option 'X'")]
    [InlineData("1", "unknown option '1'")]
    [InlineData("A", "option 'A' (failslab) is not supported")]
    [InlineData("F Z", "a blank in the options")]
    [InlineData("F,,dentry", "an empty cache name")]
    [InlineData("F,dentry,", "an empty cache name")]
    [InlineData("F,", "an empty cache name")]
    [InlineData("F,den*try", "'*' before the end of \"den*try\"")]
    [InlineData("F, dentry", "the cache name \" dentry\" contains whitespace")]
    [InlineData("FZ;bogus", "unknown option 'b'")]
    public void A_malformed_value_is_refused_with_what_is_wrong(string text, string problem)
    {
        Assert.False(SlabDebugOptions.TryParse(text, out SlabDebugOptions options, out string? found));
        Assert.Same(SlabDebugOptions.None, options);
        Assert.NotNull(found);
        Assert.Contains(problem, found);
    }

    [Theory]
    [InlineData("FZPU")]
    [InlineData("FZ;-,zs_handle,zspage")]
    [InlineData("Z,dentry;U,kmalloc-*")]
    public void The_options_print_back_as_they_read(string text)
        => Assert.Equal(text, Parse(text).ToString());

    private static (SlabConfig Config, string Errors) Load(Dictionary<string, string>? environment = null, Dictionary<string, object>? properties = null)
    {
        var errors = new StringWriter();
        SlabConfig config = SlabConfig.Load(
            name => environment != null && environment.TryGetValue(name, out string? v) ? v : null,
            name => properties != null && properties.TryGetValue(name, out object? v) ? v : null,
            errors);
        return (config, errors.ToString());
    }

    [Fact]
    public void Unset_means_no_debugging()
    {
        (SlabConfig c, string errors) = Load();
        Assert.True(c.Debug.IsNone);
        Assert.Equal("", errors);
    }

    [Fact]
    public void The_variable_set_to_nothing_is_full_debugging()
    {
        (SlabConfig c, string errors) = Load(new() { [SlabConfig.DebugVariable] = "" });
        Assert.Equal(FZPU, c.Debug.Global);
        Assert.Equal("", errors);
    }

    [Fact]
    public void The_variable_wins_over_the_runtimeconfig_property()
    {
        (SlabConfig c, _) = Load(new() { [SlabConfig.DebugVariable] = "Z" }, new() { [SlabConfig.DebugProperty] = "P" });
        Assert.Equal(Z, c.Debug.Global);
        (c, _) = Load(properties: new() { [SlabConfig.DebugProperty] = "U,packet_cache" });
        Assert.Equal(U, c.Debug.CacheFlags(0, "packet_cache"));
    }

    [Fact]
    public void A_malformed_value_is_reported_once_and_ignored()
    {
        (SlabConfig c, string errors) = Load(new() { [SlabConfig.DebugVariable] = "FQ" });
        Assert.True(c.Debug.IsNone);
        Assert.Equal($"SlabGen: ignoring SLABGEN_DEBUG=\"FQ\": unknown option 'Q'; expected {SlabDebugOptions.Expected}.{System.Environment.NewLine}", errors);

        // The next source applies, as for every setting: the runtimeconfig property.
        (c, errors) = Load(new() { [SlabConfig.DebugVariable] = "F,,x" }, new() { [SlabConfig.DebugProperty] = "ZP" });
        Assert.Equal(Z | P, c.Debug.Global);
        Assert.Single(errors.Split('\n', System.StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("SlabGen: ignoring SLABGEN_DEBUG=\"F,,x\": an empty cache name", errors);

        (c, errors) = Load(properties: new() { [SlabConfig.DebugProperty] = "Zz!" });
        Assert.True(c.Debug.IsNone);
        Assert.StartsWith("SlabGen: ignoring the runtimeconfig property SlabGen.Debug=\"Zz!\": unknown option '!'", errors);
    }
}
