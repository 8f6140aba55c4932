using System;
using System.Globalization;
using System.IO;

namespace SlabGen.Core;

/// <summary>
/// Every process-wide setting of SlabGen, read once: from a <c>SLABGEN_*</c> environment variable, else from a
/// <c>SlabGen.*</c> runtimeconfig property (<c>&lt;RuntimeHostConfigurationOption&gt;</c> in a project, or
/// <c>AppContext.SetData</c> before the allocator comes up), else the default. The environment wins, as
/// <c>DOTNET_gcServer</c> wins over <c>System.GC.Server</c>. A value that does not parse is reported once on standard
/// error and ignored. <c>docs/configuration.md</c> lists every setting.
/// </summary>
/// <remarks>
/// A new setting is one property here, read in the constructor with <see cref="ReadBool"/>, <see cref="ReadInt"/> or
/// another parser passed to <see cref="Read{T}"/>, and one row in docs/configuration.md.
/// </remarks>
internal sealed class SlabConfig
{
    public const string ReapVariable = "SLABGEN_REAP";
    public const string ReapProperty = "SlabGen.Reap";
    /// <summary>The older switch: <c>SLABGEN_NO_REAP=1</c> turns background reaping off.</summary>
    public const string NoReapVariable = "SLABGEN_NO_REAP";
    public const string ReapIntervalVariable = "SLABGEN_REAP_INTERVAL_MS";
    public const string ReapIntervalProperty = "SlabGen.ReapIntervalMs";
    public const string GcReapVariable = "SLABGEN_GC_REAP";
    public const string GcReapProperty = "SlabGen.GcReap";
    public const string AutoTuneVariable = "SLABGEN_AUTOTUNE";
    public const string AutoTuneProperty = "SlabGen.AutoTune";
    public const string PressureMediumVariable = "SLABGEN_PRESSURE_MEDIUM_PERCENT";
    public const string PressureMediumProperty = "SlabGen.PressureMediumPercent";
    public const string PressureHighVariable = "SLABGEN_PRESSURE_HIGH_PERCENT";
    public const string PressureHighProperty = "SlabGen.PressureHighPercent";
    public const string DebugVariable = "SLABGEN_DEBUG";
    public const string DebugProperty = "SlabGen.Debug";

    /// <summary><c>REAPTIMEOUT_AC</c>: two seconds.</summary>
    public const int DefaultReapIntervalMs = 2000;

    /// <summary>ArrayPool&lt;T&gt;.Shared's thresholds: medium pressure from 70% of the GC's high memory load threshold.</summary>
    public const int DefaultPressureMediumPercent = 70;

    /// <summary>ArrayPool&lt;T&gt;.Shared's thresholds: high pressure from 90% of the GC's high memory load threshold.</summary>
    public const int DefaultPressureHighPercent = 90;

    private static SlabConfig? s_current;

    private readonly Func<string, string?> _environment;
    private readonly Func<string, object?> _properties;
    private readonly TextWriter _errors;

    private SlabConfig(Func<string, string?> environment, Func<string, object?> properties, TextWriter errors)
    {
        _environment = environment;
        _properties = properties;
        _errors = errors;

        bool reap = ReadBool(ReapVariable, ReapProperty, true);
        bool noReap = ReadBool(NoReapVariable, null, false);
        Reap = reap && !noReap;
        ReapInterval = TimeSpan.FromMilliseconds(ReadInt(ReapIntervalVariable, ReapIntervalProperty, DefaultReapIntervalMs, 1, int.MaxValue, "milliseconds"));
        GcReap = ReadBool(GcReapVariable, GcReapProperty, true);
        AutoTune = ReadBool(AutoTuneVariable, AutoTuneProperty, true);
        int medium = ReadInt(PressureMediumVariable, PressureMediumProperty, DefaultPressureMediumPercent, 1, 100, "percent");
        int high = ReadInt(PressureHighVariable, PressureHighProperty, DefaultPressureHighPercent, 1, 100, "percent");
        if (medium > high)
        {
            Report($"SlabGen: the medium memory pressure threshold ({medium}%) is above the high one ({high}%); " +
                $"using {DefaultPressureMediumPercent}% and {DefaultPressureHighPercent}%.");
            (medium, high) = (DefaultPressureMediumPercent, DefaultPressureHighPercent);
        }
        PressureMediumPercent = medium;
        PressureHighPercent = high;
        Debug = ReadDebug();
    }

    /// <summary>The settings of this process, read from the environment and the runtimeconfig on first use.</summary>
    public static SlabConfig Current
    {
        get
        {
            SlabConfig? current = System.Threading.Volatile.Read(ref s_current);
            if (current != null)
                return current;
            System.Threading.Interlocked.CompareExchange(ref s_current,
                Load(Environment.GetEnvironmentVariable, AppContext.GetData, Console.Error), null);
            return s_current!;
        }
    }

    /// <summary>Reads every setting through the given sources; bad values are reported to <paramref name="errors"/>.</summary>
    internal static SlabConfig Load(Func<string, string?> environment, Func<string, object?> properties, TextWriter errors)
        => new(environment, properties, errors);

    /// <summary>Background reaping (the timer and the gen-2 GC passes): <c>SLABGEN_REAP</c>, off also with <c>SLABGEN_NO_REAP=1</c>.</summary>
    public bool Reap { get; }

    /// <summary>Time between timer passes: <c>SLABGEN_REAP_INTERVAL_MS</c>.</summary>
    public TimeSpan ReapInterval { get; }

    /// <summary>Whether a gen-2 GC also runs a reaping pass: <c>SLABGEN_GC_REAP</c>.</summary>
    public bool GcReap { get; }

    /// <summary>Whether caches without explicit tunables size their magazines to the load: <c>SLABGEN_AUTOTUNE</c>.</summary>
    public bool AutoTune { get; }

    /// <summary>Medium pressure from this percentage of the GC's high memory load threshold.</summary>
    public int PressureMediumPercent { get; }

    /// <summary>High pressure from this percentage of the GC's high memory load threshold.</summary>
    public int PressureHighPercent { get; }

    /// <summary>
    /// The debug switches in <c>slab_debug=</c> syntax: <c>SLABGEN_DEBUG</c>, else <c>SlabGen.Debug</c>, else none
    /// (docs/debugging.md). Unlike the other settings an empty value counts: it is the bare <c>slab_debug</c>, full
    /// debugging for every cache.
    /// </summary>
    public SlabDebugOptions Debug { get; }

    /// <summary>A switch: 0/1/true/false in any case, surrounding blanks ignored.</summary>
    internal static bool TryParseBool(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "1":
            case "true":
                value = true;
                return true;
            case "0":
            case "false":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>A decimal integer in <paramref name="min"/>..<paramref name="max"/>, surrounding blanks ignored.</summary>
    internal static bool TryParseInt(string text, int min, int max, out int value)
        => int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    private bool ReadBool(string variable, string? property, bool fallback)
        => Read(variable, property, fallback, "0, 1, true or false", static (string text, out bool v) => TryParseBool(text, out v));

    private int ReadInt(string variable, string? property, int fallback, int min, int max, string unit)
        => Read(variable, property, fallback, $"a whole number of {unit} from {min} to {max}",
            (string text, out int v) => TryParseInt(text, min, max, out v));

    private delegate bool Parser<T>(string text, out T value);

    /// <summary><see cref="Debug"/>: the variable if it is set (even to nothing), else the property if it is set, each skipped with a report when it does not parse.</summary>
    private SlabDebugOptions ReadDebug()
    {
        string? text = _environment(DebugVariable);
        if (text != null)
        {
            if (SlabDebugOptions.TryParse(text, out SlabDebugOptions options, out string? problem))
                return options;
            Report($"SlabGen: ignoring {DebugVariable}={Quote(text)}: {problem}; expected {SlabDebugOptions.Expected}.");
        }
        object? data = _properties(DebugProperty);
        if (data != null)
        {
            string propertyText = data.ToString() ?? "";
            if (SlabDebugOptions.TryParse(propertyText, out SlabDebugOptions options, out string? problem))
                return options;
            Report($"SlabGen: ignoring the runtimeconfig property {DebugProperty}={Quote(propertyText)}: {problem}; expected {SlabDebugOptions.Expected}.");
        }
        return SlabDebugOptions.None;
    }

    /// <summary>The environment variable, else the runtimeconfig property, else <paramref name="fallback"/>; each bad value is reported and skipped.</summary>
    private T Read<T>(string variable, string? property, T fallback, string expected, Parser<T> parse)
    {
        string? text = _environment(variable);
        if (!string.IsNullOrWhiteSpace(text))
        {
            if (parse(text, out T value))
                return value;
            Report($"SlabGen: ignoring {variable}={Quote(text)}: expected {expected}.");
        }
        if (property == null)
            return fallback;
        object? data = _properties(property);
        string? propertyText = data switch
        {
            null => null,
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => data.ToString(),
        };
        if (!string.IsNullOrWhiteSpace(propertyText))
        {
            if (parse(propertyText, out T value))
                return value;
            Report($"SlabGen: ignoring the runtimeconfig property {property}={Quote(propertyText)}: expected {expected}.");
        }
        return fallback;
    }

    private void Report(string message)
    {
        try
        {
            _errors.WriteLine(message);
        }
        catch (IOException)
        {
            // Standard error is gone: the setting is still ignored, and nothing else can be done about it.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static string Quote(string text) => "\"" + (text.Length > 64 ? text[..64] + "..." : text) + "\"";
}
