using System.Collections.Generic;
using System.Linq;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Reporting;

/// <summary>One of the project's performance goals, checked against a run.</summary>
public sealed record TargetCheck(string Target, string Measured, bool? Met);

/// <summary>The performance goals, evaluated on what was measured (a scenario that was filtered out is "not run").</summary>
public static class Targets
{
    public static List<TargetCheck> Check(IReadOnlyList<ScenarioResult> scenarios, IReadOnlyList<MemoryResult>? memory)
    {
        var checks = new List<TargetCheck>();

        void Speedup(string scenarioKey, string method, double factor, string what)
        {
            ScenarioResult? s = scenarios.FirstOrDefault(x => x.Key == scenarioKey);
            PeerResult? p = s?.Find(method);
            PeerResult? native = s?.Find("NativeMemoryAllocFree");
            if (p == null || native == null)
            {
                checks.Add(new TargetCheck(what, "not run", null));
                return;
            }
            double speedup = native.MedianNs / p.MedianNs;
            string how = speedup >= 1 ? $"{speedup:F2}x faster" : $"{1 / speedup:F2}x slower";
            checks.Add(new TargetCheck(what, $"{p.MedianNs:F2} ns vs {native.MedianNs:F2} ns: {how}", speedup >= factor));
        }

        void Beats(string scenarioKey, string method, string peer, string what)
        {
            ScenarioResult? s = scenarios.FirstOrDefault(x => x.Key == scenarioKey);
            PeerResult? p = s?.Find(method);
            PeerResult? other = s?.Find(peer);
            if (p == null || other == null)
            {
                checks.Add(new TargetCheck(what, "not run", null));
                return;
            }
            double r = other.MedianNs / p.MedianNs;
            string how = r >= 1 ? $"{r:F2}x faster" : $"{1 / r:F2}x slower";
            checks.Add(new TargetCheck(what, $"{p.MedianNs:F2} ns vs {other.MedianNs:F2} ns: {how}", p.MedianNs < other.MedianNs));
        }

        foreach ((string key, string label) in new[]
        {
            ("HotPairBenchmarks([Size=64])", "hot 64 B pair, freed at once"),
            ("Batch1024Benchmarks", "64 B, 1,024 at a time"),
        })
        {
            Speedup(key, "SlabGenCache", 3, $"SlabCache, {label}: >= 3x faster than NativeMemory");
            Speedup(key, "SlabGenTyped", 3, $"SlabCache<T>, {label}: >= 3x faster than NativeMemory");
            Beats(key, "SlabGenCache", "ArrayPoolShared", $"SlabCache, {label}: faster than ArrayPool<byte>.Shared");
            Beats(key, "SlabGenTyped", "ArrayPoolShared", $"SlabCache<T>, {label}: faster than ArrayPool<byte>.Shared");
        }
        Speedup("Batch1024Benchmarks", "SlabGenBulk", 3, "SlabCache AllocBulk/FreeBulk, 64 B, 1,024 at a time: >= 3x faster than NativeMemory (the bulk API, for comparison)");
        foreach ((string key, string label) in new[]
        {
            ("GeneratedStructBenchmarks([Held=1])", "freed at once"),
            ("GeneratedStructBenchmarks([Held=1024])", "1,024 at a time"),
        })
        {
            Speedup(key, "SlabGenGenerated", 3, $"generated [SlabCache] API, 64 B {label}: >= 3x faster than NativeMemory");
            Beats(key, "SlabGenGenerated", "ArrayPoolShared", $"generated [SlabCache] API, 64 B {label}: faster than ArrayPool<byte>.Shared");
        }
        Speedup("ProducerConsumerBenchmarks", "SlabGenCache", 1.5, "producer/consumer: >= 1.5x faster per object than NativeMemory");
        Speedup("KmallocBenchmarks([Held=1])", "SlabGenKmalloc", 2, "kmalloc random sizes, freed at once: >= 2x faster than NativeMemory");
        Speedup("KmallocBenchmarks([Held=1024])", "SlabGenKmalloc", 2, "kmalloc random sizes, 1,024 held: >= 2x faster than NativeMemory");

        MemoryResult? slab = memory?.FirstOrDefault(m => m.Allocator.StartsWith("SlabGen") && m.Source.StartsWith("PageBytes"));
        checks.Add(slab == null
            ? new TargetCheck("memory: <= 1.10x of the payload for 64 B objects", "not run", null)
            : new TargetCheck("memory: <= 1.10x of the payload for 64 B objects",
                $"{slab.BytesPerObject:F1} B per 64 B object = {slab.OfPayload:F3}x", slab.OfPayload <= 1.10));
        return checks;
    }
}
