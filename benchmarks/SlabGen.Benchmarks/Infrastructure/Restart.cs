using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// Runs the suite again, once, with environment variables that only a process start can apply
/// (<see cref="StaticTls"/>, <see cref="QuickTiering"/>), and the same arguments.
/// </summary>
public static class Restart
{
    /// <summary>
    /// Starts this program again with <paramref name="variables"/> set and the same arguments, waits for it, and
    /// returns its exit code; null when the program cannot find its own executable.
    /// </summary>
    public static int? With(string[] args, IReadOnlyList<(string Name, string Value, string Why)> variables)
    {
        string? exe = Environment.ProcessPath;
        if (exe == null)
            return null;
        var start = new ProcessStartInfo(exe) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SlabGen.Benchmarks.dll"));
        foreach (string a in args)
            start.ArgumentList.Add(a);
        foreach ((string name, string value, string why) in variables)
        {
            start.Environment[name] = value;
            Console.WriteLine($"// {why}: restarting with {name}={value}");
        }
        using Process child = Process.Start(start) ?? throw new InvalidOperationException($"could not restart {exe}");
        child.WaitForExit();
        return child.ExitCode;
    }
}
