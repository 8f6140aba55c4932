using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Reports;

namespace SlabGen.Benchmarks.Reporting;

/// <summary>One peer's median in one scenario, with its ratio to the scenario's NativeMemory baseline.</summary>
public sealed record PeerResult(string Method, string Peer, double MedianNs, double? Ratio, bool IsSlabGen, bool IsBaseline);

/// <summary>One benchmark class with one set of parameters: a scenario, and every peer measured in it.</summary>
public sealed record ScenarioResult(string Key, string Title, List<PeerResult> Peers)
{
    public PeerResult? Find(string method) => Peers.FirstOrDefault(p => p.Method == method);
}

/// <summary>Turns BenchmarkDotNet's summaries into scenarios of medians and ratios.</summary>
public static class Results
{
    /// <summary>Display names of the benchmark methods (the peers).</summary>
    private static readonly Dictionary<string, string> Peers = new()
    {
        ["NativeMemoryAllocFree"] = "NativeMemory.Alloc/Free",
        ["SlabGenCache"] = "SlabGen SlabCache",
        ["SlabGenTyped"] = "SlabGen SlabCache<T>",
        ["SlabGenBulk"] = "SlabGen SlabCache AllocBulk/FreeBulk",
        ["SlabGenGenerated"] = "SlabGen [SlabCache] generated",
        ["SlabGenKmalloc"] = "SlabGen Kmalloc",
        ["SlabGenKmallocLocal"] = "SlabGen Kmalloc.Local(), sized free",
        ["SlabGenLocal"] = "SlabGen SlabCache<T>.Local()",
        ["SlabGenNoTune"] = "SlabGen SlabCache, no Tune",
        ["SlabGenWhileTuning"] = "SlabGen SlabCache, Tune in a loop",
        ["SlabGenDebugF"] = "SlabGen debug cache, F",
        ["SlabGenDebugFZP"] = "SlabGen debug cache, F Z P",
        ["SlabGenDebugFZPU"] = "SlabGen debug cache, F Z P U",
        ["ArrayPoolShared"] = "ArrayPool<byte>.Shared",
        ["ObjectPoolDefault"] = "ObjectPool<T> (DefaultObjectPool)",
        ["GcNew"] = "GC new",
        ["SlabGenMemoryPool"] = "SlabGen SlabMemoryPool",
        ["MemoryPoolShared"] = "MemoryPool<byte>.Shared",
        ["PinnedBlockPool"] = "Pinned-block pool (Kestrel's)",
        ["PoolFloor"] = "Pool floor: one block, no bookkeeping",
        ["Floor"] = "Floor: thread-local free list",
        ["Unchecked"] = "SlabGen's magazine without its checks (not an API)",
        ["GlibcDirect"] = "glibc malloc/free (function pointer)",
        ["Mimalloc"] = "mimalloc mi_malloc/mi_free",
        ["Jemalloc"] = "jemalloc mallocx/dallocx",
        ["Tcmalloc"] = "tcmalloc tc_malloc/tc_free",
        ["MimallocSized"] = "mimalloc mi_malloc/mi_free_size",
        ["JemallocSized"] = "jemalloc mallocx/sdallocx",
        ["TcmallocSized"] = "tcmalloc tc_malloc/tc_free_sized",
    };

    /// <summary>Scenario titles by benchmark class; {0} is the parameter display ("Size=64").</summary>
    private static readonly Dictionary<string, (int Order, string Title)> Scenarios = new()
    {
        ["HotPairBenchmarks"] = (0, "Hot pair, freed at once"),
        ["SplitPairBenchmarks"] = (1, "Split pair: alloc and free in two non-inlined methods, 64 B"),
        ["Batch1024Benchmarks"] = (2, "Batch of 64 B: allocate 1,024, then free them"),
        ["Batch100000Benchmarks"] = (3, "Batch of 64 B: allocate 100,000, then free them"),
        ["GeneratedStructBenchmarks"] = (4, "Generated [SlabCache] struct, 64 B"),
        ["ProducerConsumerBenchmarks"] = (5, "Producer allocates, consumer frees (64 B, per object)"),
        ["TwoThreadsBenchmarks"] = (6, "Two threads, alloc+free pairs (64 B, per pair over both)"),
        ["KmallocBenchmarks"] = (7, "kmalloc, random sizes 8..1,024 B"),
        ["LarsonBenchmarks"] = (8, "Larson: 2 threads x 5,000 blocks of 8..999 B, threads exit and hand on their blocks (per free+alloc over both)"),
        ["TuneUnderLoadBenchmarks"] = (9, "Tune while two threads allocate (64 B, per pair)"),
        ["PoolRentReturnBenchmarks"] = (10, "MemoryPool rent, write, return of one 4 KiB block"),
        ["PipeBenchmarks"] = (10, "Pipe on each MemoryPool, write and read one message (per message)"),
        ["DebugBenchmarks"] = (11, "slab_debug: hot 64 B pair on a debug cache"),
    };

    public static string PeerName(string method) => Peers.TryGetValue(method, out string? name) ? name : method;

    /// <summary>True for the native peers called through function pointers (glibc, mimalloc, jemalloc, tcmalloc).</summary>
    public static bool IsNativePeer(string method) => method is "GlibcDirect" or "Mimalloc" or "Jemalloc" or "Tcmalloc";

    /// <summary>True for the floor (<c>FreeListFloor</c>).</summary>
    public static bool IsFloor(string method) => method == "Floor";

    /// <summary>True for the hot pair's row that skips SlabGen's checks against caller errors (what they cost; not an API).</summary>
    public static bool IsUnchecked(string method) => method == "Unchecked";

    public static List<ScenarioResult> From(IEnumerable<Summary> summaries)
    {
        var scenarios = new List<(int Order, string Params, ScenarioResult Result)>();
        foreach (Summary summary in summaries)
        {
            var groups = summary.Reports
                .Where(r => r.ResultStatistics != null)
                .GroupBy(r => (Type: r.BenchmarkCase.Descriptor.Type.Name, Params: r.BenchmarkCase.Parameters.DisplayInfo));
            foreach (var group in groups)
            {
                double? baseline = group
                    .Where(r => r.BenchmarkCase.Descriptor.Baseline)
                    .Select(r => (double?)r.ResultStatistics!.Median)
                    .FirstOrDefault();
                var peers = group
                    .OrderBy(r => r.BenchmarkCase.Descriptor.Baseline ? 0 : r.BenchmarkCase.Descriptor.WorkloadMethod.Name.StartsWith("SlabGen", StringComparison.Ordinal) ? 1 : 2)
                    .ThenBy(r => r.BenchmarkCase.Descriptor.MethodIndex)
                    .Select(r =>
                    {
                        string method = r.BenchmarkCase.Descriptor.WorkloadMethod.Name;
                        double median = r.ResultStatistics!.Median;
                        return new PeerResult(method, PeerName(method), median,
                            baseline is > 0 ? median / baseline.Value : null,
                            method.StartsWith("SlabGen", StringComparison.Ordinal),
                            r.BenchmarkCase.Descriptor.Baseline);
                    })
                    .ToList();
                (int order, string title) = Scenarios.TryGetValue(group.Key.Type, out var t) ? t : (99, group.Key.Type);
                string parameters = FormatParams(group.Key.Params);
                string fullTitle = parameters.Length == 0 ? title : $"{title}, {parameters}";
                string key = parameters.Length == 0 ? group.Key.Type : $"{group.Key.Type}({group.Key.Params})";
                scenarios.Add((order, group.Key.Params, new ScenarioResult(key, fullTitle, peers)));
            }
        }
        return scenarios
            .OrderBy(s => s.Order)
            .ThenBy(s => ParamSortKey(s.Params))
            .Select(s => s.Result)
            .ToList();
    }

    /// <summary>"[Size=64]" → "64 B"; "[N=100000]" → "N = 100,000"; "[Held=1]" → "freed at once"; "[Held=1024]" → "held 1,024 at a time".</summary>
    private static string FormatParams(string display)
    {
        string s = display.Trim('[', ']');
        if (s.Length == 0 || s == "Default")
            return "";
        var parts = new List<string>();
        foreach (string part in s.Split(", "))
        {
            string[] kv = part.Split('=');
            if (kv.Length != 2 || !long.TryParse(kv[1], out long v))
            {
                parts.Add(part);
                continue;
            }
            parts.Add(kv[0] switch
            {
                "Size" => $"{v} B",
                "N" => $"N = {v:N0}",
                "Held" => v == 1 ? "freed at once" : $"held {v:N0} at a time",
                _ => $"{kv[0]} = {v:N0}",
            });
        }
        return string.Join(", ", parts);
    }

    private static long ParamSortKey(string display)
    {
        string digits = new(display.Where(char.IsDigit).ToArray());
        return long.TryParse(digits, out long v) ? v : 0;
    }
}
