using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Reporting;

/// <summary>A run's results as JSON (results.json), so the summary and chart can be rebuilt without re-running.</summary>
public sealed record SavedRun(RunInfo Run, List<ScenarioResult> Scenarios, List<MemoryResult>? Memory)
{
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, SavedRunJson.Default.SavedRun));

    public static SavedRun Load(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), SavedRunJson.Default.SavedRun)
        ?? throw new InvalidDataException($"{path}: not a saved benchmark run");
}

/// <summary>The serializer for <see cref="SavedRun"/>, generated at compile time so that it also works under Native AOT.</summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(SavedRun))]
internal sealed partial class SavedRunJson : JsonSerializerContext
{
}
