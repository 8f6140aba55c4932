using System;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// Debian's libjemalloc is built with initial-exec TLS (a 2.6 KB block), which glibc can give a library loaded with
/// <c>dlopen</c> only out of the static TLS surplus it reserves at start-up (512 bytes by default), so the load fails
/// with "cannot allocate memory in static TLS block". The glibc tunable <see cref="Setting"/> reserves more, but only
/// at process start, so the suite restarts itself once with it (<see cref="Restart"/>).
/// </summary>
public static class StaticTls
{
    public const string Variable = "GLIBC_TUNABLES";
    public const string Setting = "glibc.rtld.optional_static_tls=65536";

    public static string Tunable => $"{Variable}={Setting}";

    /// <summary>True when this process was started with an <c>optional_static_tls</c> tunable.</summary>
    public static bool IsSet => (Environment.GetEnvironmentVariable(Variable) ?? "").Contains("glibc.rtld.optional_static_tls", StringComparison.Ordinal);

    /// <summary>The <see cref="Variable"/> to restart with: this process's tunables, if any, and <see cref="Setting"/>.</summary>
    public static string Value => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } tunables ? $"{tunables}:{Setting}" : Setting;
}
