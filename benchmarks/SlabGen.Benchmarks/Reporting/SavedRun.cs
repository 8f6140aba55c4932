using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Reporting;

/// <summary>A run's results as JSON (results.json), so the summary and chart can be rebuilt without re-running.</summary>
public sealed record SavedRun(RunInfo Run, List<ScenarioResult> Scenarios, List<MemoryResult>? Memory)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Options));

    public static SavedRun Load(string path) =>
        JsonSerializer.Deserialize<SavedRun>(File.ReadAllText(path), Options)
        ?? throw new InvalidDataException($"{path}: not a saved benchmark run");
}
