using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>
/// The check every generator run in these tests goes through (the pattern of NetEscapades.EnumGenerators' test
/// helper): run the driver again on a clone of the compilation, which changes nothing, and require that every tracked
/// step produced equal outputs, each <c>Cached</c> or <c>Unchanged</c>, that every source output was <c>Cached</c>,
/// and that no step's output holds a compilation, symbol, syntax node, syntax tree, semantic model or location (any of
/// which would keep the step from ever comparing equal, and keep a whole compilation alive in the IDE).
/// </summary>
internal static class IncrementalAssert
{
    /// <summary>The generator's tracking names (<see cref="TrackingNames"/>).</summary>
    public static readonly IReadOnlyList<string> SlabGenStepNames = typeof(TrackingNames)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    /// <summary>
    /// Re-runs <paramref name="driver"/>, which has run once, on <paramref name="unchanged"/> (a clone of its last
    /// compilation, or that compilation itself) and asserts that the re-run reused every output.
    /// </summary>
    public static void RerunIsCached(GeneratorDriver driver, Compilation unchanged, IReadOnlyCollection<string> stepNames)
    {
        GeneratorRunResult first = driver.GetRunResult().Results.Single();
        GeneratorRunResult second = driver.RunGenerators(unchanged).GetRunResult().Results.Single();

        Dictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> steps1 = Tracked(first, stepNames);
        Dictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> steps2 = Tracked(second, stepNames);
        Assert.Equal(steps1.Keys.OrderBy(k => k, StringComparer.Ordinal), steps2.Keys.OrderBy(k => k, StringComparer.Ordinal));
        foreach ((string name, ImmutableArray<IncrementalGeneratorRunStep> runs1) in steps1)
        {
            ImmutableArray<IncrementalGeneratorRunStep> runs2 = steps2[name];
            Assert.True(runs1.Length == runs2.Length, name + " ran " + runs1.Length + " times, then " + runs2.Length + " times");
            for (int i = 0; i < runs1.Length; i++)
            {
                Assert.True(runs1[i].Outputs.Select(o => o.Value).SequenceEqual(runs2[i].Outputs.Select(o => o.Value)),
                    name + " produced outputs that do not equal the previous run's, so it can never be cached");
                foreach ((object _, IncrementalStepRunReason reason) in runs2[i].Outputs)
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                        name + " was " + reason + " on a re-run over an unchanged compilation");
                AssertHoldsNoCompilationState(runs1[i], name);
                AssertHoldsNoCompilationState(runs2[i], name);
            }
        }
        foreach ((string name, ImmutableArray<IncrementalGeneratorRunStep> runs) in second.TrackedOutputSteps)
        {
            foreach ((object _, IncrementalStepRunReason reason) in runs.SelectMany(r => r.Outputs))
                Assert.True(reason == IncrementalStepRunReason.Cached, "output " + name + " was " + reason + " on a re-run over an unchanged compilation");
        }
        Assert.Equal(first.GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString())),
            second.GeneratedSources.Select(s => (s.HintName, s.SourceText.ToString())));
        // Diagnostics compare by text: a Location made from plain data (LocationInfo) has no value equality of its own.
        Assert.Equal(first.Diagnostics.Select(d => d.ToString()), second.Diagnostics.Select(d => d.ToString()));
    }

    private static Dictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> Tracked(GeneratorRunResult run, IReadOnlyCollection<string> stepNames)
        => run.TrackedSteps.Where(s => stepNames.Contains(s.Key)).ToDictionary(s => s.Key, s => s.Value);

    private static void AssertHoldsNoCompilationState(IncrementalGeneratorRunStep step, string name)
    {
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach ((object value, IncrementalStepRunReason _) in step.Outputs)
            Visit(value, name, visited);
    }

    private static void Visit(object? value, string step, HashSet<object> visited)
    {
        if (value is null)
            return;
        Type type = value.GetType();
        if (value is string || type.IsPrimitive || type.IsEnum || !visited.Add(value))
            return;
        Assert.False(value is Compilation or ISymbol or SyntaxNode or SyntaxTree or SemanticModel or Location,
            step + " holds a " + type.Name);
        if (value is IEnumerable items)
        {
            foreach (object? item in items)
                Visit(item, step, visited);
        }
        foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            Visit(field.GetValue(value), step, visited);
    }
}
