using System;
using System.Collections.Generic;
using System.IO;
using SlabGen.Core;
using Xunit;

namespace SlabGen.Tests;

/// <summary>Configuration read from given sources, never the real environment: good values, bad ones, precedence.</summary>
public class SlabConfigTests
{
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
    public void Nothing_set_gives_the_defaults_and_no_report()
    {
        (SlabConfig c, string errors) = Load();
        Assert.True(c.Reap);
        Assert.True(c.GcReap);
        Assert.Equal(TimeSpan.FromSeconds(2), c.ReapInterval);
        Assert.Equal(70, c.PressureMediumPercent);
        Assert.Equal(90, c.PressureHighPercent);
        Assert.Equal("", errors);
    }

    [Theory]
    [InlineData("0", true, false)]
    [InlineData("1", true, true)]
    [InlineData("true", true, true)]
    [InlineData("FALSE", true, false)]
    [InlineData(" True ", true, true)]
    [InlineData("yes", false, false)]
    [InlineData("2", false, false)]
    [InlineData("", false, false)]
    public void Switches_accept_0_1_true_false(string text, bool ok, bool value)
    {
        Assert.Equal(ok, SlabConfig.TryParseBool(text, out bool parsed));
        Assert.Equal(value, parsed);
    }

    [Theory]
    [InlineData("250", 1, 1000, true, 250)]
    [InlineData(" 7 ", 1, 1000, true, 7)]
    [InlineData("0", 1, 1000, false, 0)]
    [InlineData("1001", 1, 1000, false, 0)]
    [InlineData("-5", 1, 1000, false, 0)]
    [InlineData("1e3", 1, 1000, false, 0)]
    [InlineData("12ms", 1, 1000, false, 0)]
    [InlineData("99999999999", 1, int.MaxValue, false, 0)]
    public void Numbers_are_whole_and_in_range(string text, int min, int max, bool ok, int value)
    {
        Assert.Equal(ok, SlabConfig.TryParseInt(text, min, max, out int parsed));
        if (ok)
            Assert.Equal(value, parsed);
    }

    [Fact]
    public void Environment_variables_set_every_knob()
    {
        (SlabConfig c, string errors) = Load(new()
        {
            ["SLABGEN_REAP"] = "false",
            ["SLABGEN_GC_REAP"] = "0",
            ["SLABGEN_REAP_INTERVAL_MS"] = "500",
            ["SLABGEN_PRESSURE_MEDIUM_PERCENT"] = "50",
            ["SLABGEN_PRESSURE_HIGH_PERCENT"] = "80",
        });
        Assert.False(c.Reap);
        Assert.False(c.GcReap);
        Assert.Equal(TimeSpan.FromMilliseconds(500), c.ReapInterval);
        Assert.Equal(50, c.PressureMediumPercent);
        Assert.Equal(80, c.PressureHighPercent);
        Assert.Equal("", errors);
    }

    [Fact]
    public void The_old_SLABGEN_NO_REAP_switch_still_turns_reaping_off()
    {
        Assert.False(Load(new() { ["SLABGEN_NO_REAP"] = "1" }).Config.Reap);
        Assert.False(Load(new() { ["SLABGEN_NO_REAP"] = "true", ["SLABGEN_REAP"] = "1" }).Config.Reap);
        Assert.True(Load(new() { ["SLABGEN_NO_REAP"] = "0" }).Config.Reap);
    }

    [Fact]
    public void Runtimeconfig_properties_set_knobs_as_strings_or_values()
    {
        (SlabConfig c, string errors) = Load(properties: new()
        {
            ["SlabGen.Reap"] = "false",
            ["SlabGen.GcReap"] = false,
            ["SlabGen.ReapIntervalMs"] = 750,
            ["SlabGen.PressureMediumPercent"] = "60",
            ["SlabGen.PressureHighPercent"] = 95L,
        });
        Assert.False(c.Reap);
        Assert.False(c.GcReap);
        Assert.Equal(TimeSpan.FromMilliseconds(750), c.ReapInterval);
        Assert.Equal((60, 95), (c.PressureMediumPercent, c.PressureHighPercent));
        Assert.Equal("", errors);
    }

    [Fact]
    public void The_environment_wins_over_the_runtimeconfig()
    {
        (SlabConfig c, _) = Load(new() { ["SLABGEN_REAP_INTERVAL_MS"] = "100" }, new() { ["SlabGen.ReapIntervalMs"] = "900" });
        Assert.Equal(TimeSpan.FromMilliseconds(100), c.ReapInterval);
    }

    [Fact]
    public void A_bad_value_is_reported_once_and_ignored()
    {
        (SlabConfig c, string errors) = Load(new()
        {
            ["SLABGEN_REAP"] = "maybe",
            ["SLABGEN_REAP_INTERVAL_MS"] = "soon",
        });
        Assert.True(c.Reap);
        Assert.Equal(TimeSpan.FromSeconds(2), c.ReapInterval);
        string[] lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("SLABGEN_REAP=\"maybe\"", errors);
        Assert.Contains("0, 1, true or false", errors);
        Assert.Contains("SLABGEN_REAP_INTERVAL_MS=\"soon\"", errors);
        Assert.Contains("milliseconds", errors);
    }

    [Fact]
    public void A_bad_environment_value_falls_back_to_the_runtimeconfig_not_the_default()
    {
        (SlabConfig c, string errors) = Load(new() { ["SLABGEN_REAP_INTERVAL_MS"] = "-1" }, new() { ["SlabGen.ReapIntervalMs"] = "300" });
        Assert.Equal(TimeSpan.FromMilliseconds(300), c.ReapInterval);
        Assert.Contains("SLABGEN_REAP_INTERVAL_MS", errors);
    }

    [Fact]
    public void A_bad_runtimeconfig_value_is_reported_with_its_property_name()
    {
        (SlabConfig c, string errors) = Load(properties: new() { ["SlabGen.PressureHighPercent"] = "150" });
        Assert.Equal(90, c.PressureHighPercent);
        Assert.Contains("runtimeconfig property SlabGen.PressureHighPercent=\"150\"", errors);
        Assert.Contains("from 1 to 100", errors);
    }

    [Fact]
    public void A_medium_threshold_above_the_high_one_resets_both()
    {
        (SlabConfig c, string errors) = Load(new() { ["SLABGEN_PRESSURE_MEDIUM_PERCENT"] = "95", ["SLABGEN_PRESSURE_HIGH_PERCENT"] = "80" });
        Assert.Equal((70, 90), (c.PressureMediumPercent, c.PressureHighPercent));
        Assert.Contains("above the high one", errors);
    }

    [Fact]
    public void A_closed_error_writer_does_not_crash_the_read()
    {
        var errors = new StringWriter();
        errors.Dispose();
        SlabConfig c = SlabConfig.Load(name => name == "SLABGEN_REAP" ? "nope" : null, _ => null, errors);
        Assert.True(c.Reap);
    }

    [Fact]
    public void The_process_reads_SLABGEN_NO_REAP_that_the_tests_set()
    {
        // TestSupport's module initializer sets SLABGEN_NO_REAP=1 before the allocator reads its configuration.
        Assert.False(SlabConfig.Current.Reap);
    }
}
