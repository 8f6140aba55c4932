using System;
using System.Diagnostics;
using System.IO;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// Debian's libjemalloc is built with initial-exec TLS (a 2.6 KB block), which glibc can give a library loaded with
/// <c>dlopen</c> only out of the static TLS surplus it reserves at start-up (512 bytes by default), so the load fails
/// with "cannot allocate memory in static TLS block". The glibc tunable
/// <see cref="Setting"/> reserves more, but only at process start, so the suite restarts itself once with it.
/// </summary>
public static class StaticTls
{
    public const string Variable = "GLIBC_TUNABLES";
    public const string Setting = "glibc.rtld.optional_static_tls=65536";

    public static string Tunable => $"{Variable}={Setting}";

    /// <summary>True when this process was started with an <c>optional_static_tls</c> tunable.</summary>
    public static bool IsSet => (Environment.GetEnvironmentVariable(Variable) ?? "").Contains("glibc.rtld.optional_static_tls", StringComparison.Ordinal);

    /// <summary>
    /// Runs this program again with <see cref="Setting"/> added to <see cref="Variable"/> and the same arguments, and
    /// returns its exit code; null when the program cannot find its own executable.
    /// </summary>
    public static int? Restart(string[] args)
    {
        string? exe = Environment.ProcessPath;
        if (exe == null)
            return null;
        var start = new ProcessStartInfo(exe) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SlabGen.Benchmarks.dll"));
        foreach (string a in args)
            start.ArgumentList.Add(a);
        string? tunables = Environment.GetEnvironmentVariable(Variable);
        start.Environment[Variable] = string.IsNullOrEmpty(tunables) ? Setting : $"{tunables}:{Setting}";
        Console.WriteLine($"// jemalloc needs more static TLS than glibc reserves for dlopen: restarting with {Tunable}");
        using Process child = Process.Start(start) ?? throw new InvalidOperationException($"could not restart {exe}");
        child.WaitForExit();
        return child.ExitCode;
    }
}
