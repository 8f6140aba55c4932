using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using SlabGen.Benchmarks.Reporting;

namespace SlabGen.Benchmarks;

/// <summary>
/// <c>--aot</c> from a JIT run: publishes this project with Native AOT (<c>dotnet publish -r RID -p:BenchAot=true</c>,
/// which sets <c>PublishAot</c> for this project alone),
/// runs the native executable with the same arguments (BenchmarkDotNet in process, <c>InProcessNoEmitToolchain</c>),
/// its results going to <c>results/aot/</c>, and then writes <c>jit-vs-aot.md</c> there from the JIT run's
/// results.json when there is one.
/// </summary>
public static class AotLauncher
{
    /// <summary>Set for the AOT process: the command the user typed, for its summary.</summary>
    public const string CommandVariable = "SLABGEN_BENCH_COMMAND";

    public static int PublishAndRun(IReadOnlyList<string> args, string repositoryRoot, string jitResultsDir, string aotResultsDir, string command)
    {
        string project = Path.Combine(repositoryRoot, "benchmarks", "SlabGen.Benchmarks", "SlabGen.Benchmarks.csproj");
        string output = Path.Combine(repositoryRoot, "benchmarks", "SlabGen.Benchmarks", "bin", "aot");
        string rid = RuntimeInformation.RuntimeIdentifier;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        Console.WriteLine($"// Native AOT: publishing {project} for {rid} to {output} (a few minutes)");
        int published = Run(dotnet, ["publish", project, "-c", "Release", "-r", rid, "-p:BenchAot=true", "-o", output, "-nologo"], null);
        if (published != 0)
        {
            Console.Error.WriteLine($"// Native AOT: dotnet publish failed (exit code {published}); nothing was measured");
            return published;
        }

        var childArgs = new List<string>(args);
        if (!childArgs.Contains("--results"))
            childArgs.AddRange(["--results", aotResultsDir]);
        string exe = Path.Combine(output, OperatingSystem.IsWindows() ? "SlabGen.Benchmarks.exe" : "SlabGen.Benchmarks");
        Console.WriteLine($"// Native AOT: running {exe} {string.Join(' ', childArgs)}");
        int exit = Run(exe, childArgs, command);

        string jitJson = Path.Combine(jitResultsDir, "results.json"), aotJson = Path.Combine(aotResultsDir, "results.json");
        if (File.Exists(jitJson) && File.Exists(aotJson))
        {
            string compared = Path.Combine(aotResultsDir, "jit-vs-aot.md");
            File.WriteAllText(compared, JitAotComparison.Build(SavedRun.Load(jitJson), SavedRun.Load(aotJson)));
            Console.WriteLine($"// Wrote {compared} (this AOT run against the JIT run in {jitJson})");
        }
        return exit;
    }

    private static int Run(string file, IEnumerable<string> args, string? command)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (string a in args)
            start.ArgumentList.Add(a);
        if (command != null)
            start.Environment[CommandVariable] = command;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        process.WaitForExit();
        return process.ExitCode;
    }
}
