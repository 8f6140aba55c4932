using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>
/// The pipeline caches: an edit that does not touch an annotated struct leaves every step's output Cached or
/// Unchanged and regenerates nothing, and no step's output holds a symbol, syntax node, compilation or location.
/// </summary>
public class IncrementalTests
{
    private const string Annotated = """
        using SlabGen;
        namespace Demo;
        [SlabCache(Ctor = nameof(Init))]
        public partial struct Packet
        {
            public int Length;
            public long Id;
            static void Init(ref Packet p) => p.Length = 0;
            public int Twice() => Length * 2;
        }
        [SlabCache(Name = "bad", Align = 3)]
        public partial struct Broken { public int A; }
        """;

    private const string Unrelated = """
        namespace Demo;
        public class Service { public int Work() => 1; }
        """;

    private static readonly string[] StepNames = typeof(TrackingNames)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    [Fact]
    public void EveryTrackingNameIsUsed()
    {
        GeneratorRun run = TestCompilation.Run(Annotated, Unrelated);
        IReadOnlyDictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> steps = run.Result.Results.Single().TrackedSteps;
        Assert.All(StepNames, name => Assert.True(steps.ContainsKey(name), name + " is never tracked"));
    }

    [Fact]
    public void UnrelatedEditLeavesEveryOutputCached()
    {
        GeneratorRun first = TestCompilation.Run(Annotated, Unrelated);
        GeneratorDriverRunResult second = RunEdited(first, "Test1.cs", Unrelated, "=> 1;", "=> 2;");

        AssertAllCached(second, StepNames);
        Assert.Equal(first.Sources, ToDictionary(second));
    }

    [Fact]
    public void NewUnrelatedFileLeavesEveryOutputCached()
    {
        GeneratorRun first = TestCompilation.Run(Annotated);
        CSharpCompilation edited = first.Input.AddSyntaxTrees(CSharpSyntaxTree.ParseText(Unrelated, TestCompilation.ParseOptions, "Test9.cs"));

        GeneratorDriverRunResult second = first.Driver.RunGenerators(edited).GetRunResult();

        AssertAllCached(second, StepNames);
    }

    [Fact]
    public void RerunOnCloneIsFullyCached()
    {
        GeneratorRun first = TestCompilation.Run(Annotated, Unrelated);
        GeneratorDriverRunResult second = first.Driver.RunGenerators(first.Input.Clone()).GetRunResult();
        AssertAllCached(second, StepNames);
    }

    [Fact]
    public void MethodBodyEditInTheStructDoesNotRegenerate()
    {
        GeneratorRun first = TestCompilation.Run(Annotated, Unrelated);
        GeneratorDriverRunResult second = RunEdited(first, "Test0.cs", Annotated, "Length * 2", "Length * 2 + Length / 3");

        // The parser sees the edit (Broken's diagnostic moved), but Packet's model is equal, so nothing is emitted again.
        Assert.Contains(second.Results.Single().TrackedSteps[TrackingNames.Targets].SelectMany(s => s.Outputs),
            output => output.Reason == IncrementalStepRunReason.Modified);
        AssertStepsCached(second, TrackingNames.Specs, TrackingNames.EmitInputs, TrackingNames.DuplicateNames, TrackingNames.CompilationFacts);
        Assert.Equal(first.Sources, ToDictionary(second));
    }

    [Fact]
    public void NewFieldRegeneratesOnlyThatStruct()
    {
        GeneratorRun first = TestCompilation.Run(Annotated, Unrelated);
        GeneratorDriverRunResult second = RunEdited(first, "Test0.cs", Annotated, "public long Id;", "public long Id; public long Extra;");

        IncrementalGeneratorRunStep spec = Assert.Single(second.Results.Single().TrackedSteps[TrackingNames.Specs]);
        Assert.Equal(IncrementalStepRunReason.Modified, spec.Outputs.Single().Reason);
        Assert.Contains("public const int ObjectSize = 24;", ToDictionary(second)["Demo.Packet.SlabCache.g.cs"]);
    }

    [Fact]
    public void ChangingUnsafeSettingRegeneratesFromCompilationFacts()
    {
        GeneratorRun first = TestCompilation.Run(Annotated);
        CSharpCompilation edited = first.Input.WithOptions(first.Input.Options.WithAllowUnsafe(false));

        GeneratorDriverRunResult second = first.Driver.RunGenerators(edited).GetRunResult();

        Assert.Equal(IncrementalStepRunReason.Modified,
            second.Results.Single().TrackedSteps[TrackingNames.CompilationFacts].Single().Outputs.Single().Reason);
        Assert.Empty(second.Results.Single().GeneratedSources);
        Assert.Contains(second.Diagnostics, d => d.Id == "SLAB013");
    }

    [Fact]
    public void NoStepOutputHoldsSymbolsSyntaxOrCompilations()
    {
        GeneratorRun run = TestCompilation.Run(Annotated, Unrelated);
        foreach ((string name, ImmutableArray<IncrementalGeneratorRunStep> steps) in run.Result.Results.Single().TrackedSteps)
        {
            if (!StepNames.Contains(name))
                continue;
            foreach (IncrementalGeneratorRunStep step in steps)
            {
                foreach ((object value, IncrementalStepRunReason _) in step.Outputs)
                    AssertObjectGraph(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }
    }

    /// <summary>Re-runs the first run's driver after replacing <paramref name="from"/> with <paramref name="to"/> in one file.</summary>
    private static GeneratorDriverRunResult RunEdited(GeneratorRun first, string path, string text, string from, string to)
    {
        Assert.Contains(from, text);
        SyntaxTree old = first.Input.SyntaxTrees.Single(t => t.FilePath == path);
        CSharpCompilation edited = first.Input.ReplaceSyntaxTree(old,
            CSharpSyntaxTree.ParseText(text.Replace(from, to, StringComparison.Ordinal), TestCompilation.ParseOptions, path));
        return first.Driver.RunGenerators(edited).GetRunResult();
    }

    private static void AssertAllCached(GeneratorDriverRunResult result, params string[] stepNames)
    {
        AssertStepsCached(result, stepNames);
        foreach (IncrementalGeneratorRunStep step in result.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value))
        {
            foreach ((object _, IncrementalStepRunReason reason) in step.Outputs)
                Assert.Equal(IncrementalStepRunReason.Cached, reason);
        }
    }

    private static void AssertStepsCached(GeneratorDriverRunResult result, params string[] stepNames)
    {
        GeneratorRunResult run = result.Results.Single();
        foreach (string name in stepNames)
        {
            Assert.True(run.TrackedSteps.ContainsKey(name), name + " was not tracked");
            foreach (IncrementalGeneratorRunStep step in run.TrackedSteps[name])
            {
                foreach ((object _, IncrementalStepRunReason reason) in step.Outputs)
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, name + " was " + reason);
            }
        }
    }

    private static Dictionary<string, string> ToDictionary(GeneratorDriverRunResult result)
        => result.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());

    private static void AssertObjectGraph(object? value, string step, HashSet<object> visited)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !visited.Add(value))
            return;
        Assert.False(value is Compilation or ISymbol or SyntaxNode or SyntaxTree or Location or SemanticModel,
            step + " holds a " + value.GetType().Name);
        Type type = value.GetType();
        if (value is IEnumerable enumerable)
        {
            foreach (object? item in enumerable)
                AssertObjectGraph(item, step, visited);
        }
        foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertObjectGraph(field.GetValue(value), step, visited);
    }
}
