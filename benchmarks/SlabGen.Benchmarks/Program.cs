using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using SlabGen.Benchmarks;
using SlabGen.Benchmarks.Infrastructure;
using SlabGen.Benchmarks.Reporting;

// SlabGen benchmark suite. Our options are taken out; everything else goes to BenchmarkSwitcher:
//   --quick           the quick job (under 5 minutes on a 2-core machine), in this process; default: the full job,
//                     one process per benchmark
//   --inprocess       run benchmarks inside this process (InProcessEmitToolchain): the default with --quick
//   --outofprocess    one process per benchmark (BenchmarkDotNet's default toolchain): the default without --quick
//   --no-memory       skip the memory measurement;  --memory-only: only the memory measurement
//   --results DIR     where summary.md, chart.svg and results.json go (default: benchmarks/results of the repository)
//   --render FILE     rebuild summary.md and chart.svg from a results.json without running anything
//   --aot             publish this suite with Native AOT and run that build with the other arguments; its results go
//                     to benchmarks/results/aot, with jit-vs-aot.md beside them (from the JIT run's results.json)
//   --compare JIT AOT write jit-vs-aot.md beside AOT from two results.json files
// With no --filter (or --list, --help, ...), every benchmark runs. Native peers (mimalloc, jemalloc, tcmalloc) that are
// not installed are skipped with one line each saying which package to install.

var started = DateTime.UtcNow;
string? loadBefore = LoadAverage();
var wall = Stopwatch.StartNew();
bool quick = false, memory = true, memoryOnly = false, aot = false;
bool? inProcessChoice = null;
string? resultsDir = null, render = null, compareJit = null, compareAot = null;
var passOn = new List<string>(); // the arguments an --aot run passes to the native executable
var bdnArgs = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] != "--aot")
        passOn.Add(args[i]);
    switch (args[i])
    {
        case "--quick": quick = true; break;
        case "--aot": aot = true; break;
        case "--compare" when i + 2 < args.Length: compareJit = args[++i]; compareAot = args[++i]; passOn.Add(compareJit); passOn.Add(compareAot); break;
        case "--inprocess": inProcessChoice = true; break;
        case "--outofprocess": inProcessChoice = false; break;
        case "--render" when i + 1 < args.Length: render = args[++i]; passOn.Add(render); break;
        case "--no-memory": memory = false; break;
        case "--memory-only": memoryOnly = true; break;
        case "--results" when i + 1 < args.Length: resultsDir = args[++i]; passOn.Add(resultsDir); break;
        default: bdnArgs.Add(args[i]); break;
    }
}
bool inProcess = inProcessChoice ?? quick;
if (BenchConfig.IsNativeAot && !inProcess)
{
    Console.WriteLine("// Native AOT: benchmarks run in this process (InProcessNoEmitToolchain); --outofprocess needs the JIT build");
    inProcess = true;
}
if (render != null)
{
    SavedRun saved = SavedRun.Load(render);
    Write(resultsDir ?? Path.GetDirectoryName(Path.GetFullPath(render))!, saved.Run, saved.Scenarios, saved.Memory);
    return 0;
}
if (compareJit != null && compareAot != null)
{
    string compared = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(compareAot))!, "jit-vs-aot.md");
    File.WriteAllText(compared, JitAotComparison.Build(SavedRun.Load(compareJit), SavedRun.Load(compareAot)));
    Console.WriteLine($"// Wrote {compared}");
    return 0;
}
string defaultCommand = "dotnet run -c Release --project benchmarks/SlabGen.Benchmarks --" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
if (aot && !BenchConfig.IsNativeAot)
{
    string root = RepositoryRoot();
    string aotDir = resultsDir ?? Path.Combine(root, "benchmarks", "results", "aot");
    string jitDir = resultsDir != null ? Path.GetDirectoryName(Path.GetFullPath(resultsDir))! : Path.Combine(root, "benchmarks", "results");
    return AotLauncher.PublishAndRun(passOn, root, jitDir, aotDir, defaultCommand);
}

string[] selecting = ["--filter", "-f", "--list", "--allCategories", "--anyCategories", "-h", "--help", "--version", "--info", "--disasmFilter"];
bool listOnly = bdnArgs.Any(a => a is "--list" or "-h" or "--help" or "--version" or "--info");
if (!bdnArgs.Any(a => selecting.Contains(a)))
    bdnArgs.InsertRange(0, ["--filter", "*"]);

var restartWith = new List<(string Name, string Value, string Why)>();
if (OperatingSystem.IsLinux() && !StaticTls.IsSet && NativePeers.NeedsStaticTls)
    restartWith.Add((StaticTls.Variable, StaticTls.Value, "jemalloc needs more static TLS than glibc reserves for dlopen"));
if (quick && inProcess && !BenchConfig.IsNativeAot && !listOnly && !QuickTiering.IsSet)
    restartWith.Add((QuickTiering.Variable, QuickTiering.Value, "a quick run in one process measures Tier-1 code only without the JIT's tiering delay"));
if (restartWith.Count > 0 && Restart.With(args, restartWith) is int restarted)
    return restarted;
foreach (NativePeer skipped in NativePeers.Skipped)
    Console.WriteLine(skipped.SkipMessage);

List<MemoryResult>? footprint = null;
if ((memory || memoryOnly) && !listOnly)
{
    footprint = MemoryFootprint.Measure();
    Console.WriteLine($"// Memory for {MemoryFootprint.Objects:N0} live {MemoryFootprint.ObjectSize}-byte objects:");
    foreach (MemoryResult m in footprint)
        Console.WriteLine($"//   {m.Allocator,-36} {m.Source,-34} {m.BytesPerObject,7:F1} B/object  {m.OfPayload:F3}x payload");
}

Summary[] summaries = memoryOnly
    ? []
    : BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(bdnArgs.ToArray(), BenchConfig.Create(quick, inProcess)).ToArray();
if (listOnly)
    return 0;

List<ScenarioResult> scenarios = Results.From(summaries);
var run = new RunInfo(Machine(),
    $"{RuntimeInformation.FrameworkDescription}{(BenchConfig.IsNativeAot ? " (Native AOT)" : " (JIT)")}, {RuntimeInformation.OSDescription}",
    Environment.GetEnvironmentVariable(AotLauncher.CommandVariable) is { Length: > 0 } typed ? typed : defaultCommand,
    BenchConfig.Describe(quick, inProcess), started, wall.Elapsed, loadBefore, LoadAverage(),
    NativePeers.All.Where(p => p.IsLoaded).Select(p => p.Describe()).ToList(),
    NativePeers.Skipped.Select(p => $"{p.Name} ({p.Problem})").ToList());
if (scenarios.Count > 0 || footprint != null)
{
    string dir = resultsDir ?? Path.Combine(RepositoryRoot(), "benchmarks", "results", BenchConfig.IsNativeAot ? "aot" : "");
    Write(dir, run, scenarios, footprint);
    new SavedRun(run, scenarios, footprint).Save(Path.Combine(dir, "results.json"));
    Console.WriteLine($"// Wrote summary.md, chart.svg and results.json to {dir} ({wall.Elapsed.TotalSeconds:F0} s since start).");
}

bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
return failed ? 1 : 0;

// summary.md (also printed) and chart.svg.
static void Write(string dir, RunInfo run, List<ScenarioResult> scenarios, List<MemoryResult>? footprint)
{
    string markdown = MarkdownSummary.Build(run, scenarios, footprint, Targets.Check(scenarios, footprint));
    Console.WriteLine();
    Console.WriteLine(markdown);
    Directory.CreateDirectory(dir);
    File.WriteAllText(Path.Combine(dir, "summary.md"), markdown);
    File.WriteAllText(Path.Combine(dir, "chart.svg"), SvgChart.Build(run, scenarios, footprint));
}

// The directory holding SlabGen.sln, from the working directory or the program's own location.
static string RepositoryRoot()
{
    foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        for (DirectoryInfo? d = new(start); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "SlabGen.sln")))
                return d.FullName;
    return Directory.GetCurrentDirectory();
}

// The 1, 5 and 15 minute load averages (Linux), or null.
static string? LoadAverage()
{
    try
    {
        string[] f = File.ReadAllText("/proc/loadavg").Split(' ');
        return $"{f[0]}, {f[1]}, {f[2]}";
    }
    catch (IOException)
    {
        return null;
    }
    catch (UnauthorizedAccessException)
    {
        return null;
    }
}

// "CPU model, N logical cores, M GiB" from /proc (Linux), or what .NET knows elsewhere.
static string Machine()
{
    string cpu = "unknown CPU";
    try
    {
        string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        if (line != null)
            cpu = line[(line.IndexOf(':') + 1)..].Trim();
    }
    catch (IOException)
    {
    }
    catch (UnauthorizedAccessException)
    {
    }
    double gib = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
    return $"{cpu}, {Environment.ProcessorCount} logical cores, {gib:F0} GiB";
}
