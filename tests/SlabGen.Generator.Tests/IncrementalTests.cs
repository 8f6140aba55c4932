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
/// Unchanged and regenerates nothing. (Every run in these tests also re-runs on a clone and checks that nothing
/// changed and that no step holds a symbol, syntax node, compilation or location: see <see cref="IncrementalAssert"/>.)
/// The last tests check that that check can fail.
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

    private static readonly string[] StepNames = IncrementalAssert.SlabGenStepNames.ToArray();

    [Fact]
    public void Every_tracking_name_is_used()
    {
        GeneratorRun run = TestCompilation.Run(Annotated, Unrelated);
        IReadOnlyDictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> steps = run.Result.Results.Single().TrackedSteps;
        Assert.All(StepNames, name => Assert.True(steps.ContainsKey(name), name + " is never tracked"));
    }

    [Fact]
    public void An_unrelated_edit_leaves_every_output_cached()
    {
        GeneratorRun first = TestCompilation.Run(Annotated, Unrelated);
        GeneratorDriverRunResult second = RunEdited(first, "Test1.cs", Unrelated, "=> 1;", "=> 2;");

        AssertAllCached(second, StepNames);
        Assert.Equal(first.Sources, ToDictionary(second));
    }

    [Fact]
    public void A_new_unrelated_file_leaves_every_output_cached()
    {
        GeneratorRun first = TestCompilation.Run(Annotated);
        CSharpCompilation edited = first.Input.AddSyntaxTrees(CSharpSyntaxTree.ParseText(Unrelated, TestCompilation.ParseOptions, "Test9.cs"));

        GeneratorDriverRunResult second = first.Driver.RunGenerators(edited).GetRunResult();

        AssertAllCached(second, StepNames);
    }

    [Fact]
    public void A_method_body_edit_in_the_struct_does_not_regenerate()
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
    public void A_new_field_regenerates_only_that_struct()
    {
        GeneratorRun first = TestCompilation.Run(Annotated, Unrelated);
        GeneratorDriverRunResult second = RunEdited(first, "Test0.cs", Annotated, "public long Id;", "public long Id; public long Extra;");

        IncrementalGeneratorRunStep spec = Assert.Single(second.Results.Single().TrackedSteps[TrackingNames.Specs]);
        Assert.Equal(IncrementalStepRunReason.Modified, spec.Outputs.Single().Reason);
        Assert.Contains("public const int ObjectSize = 24;", ToDictionary(second)["Demo.Packet.SlabCache.g.cs"]);
    }

    [Fact]
    public void Changing_the_unsafe_setting_regenerates_from_the_compilation_facts()
    {
        GeneratorRun first = TestCompilation.Run(Annotated);
        CSharpCompilation edited = first.Input.WithOptions(first.Input.Options.WithAllowUnsafe(false));

        GeneratorDriverRunResult second = first.Driver.RunGenerators(edited).GetRunResult();

        Assert.Equal(IncrementalStepRunReason.Modified,
            second.Results.Single().TrackedSteps[TrackingNames.CompilationFacts].Single().Outputs.Single().Reason);
        Assert.Empty(second.Results.Single().GeneratedSources);
        Assert.Contains(second.Diagnostics, d => d.Id == "SLAB013");
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

    [Fact]
    public void Renaming_the_assembly_changes_only_the_compilation_facts_and_the_name_scope()
    {
        GeneratorRun first = TestCompilation.Run(TestCompilation.Create(new[] { Annotated, Unrelated }, assemblyName: "Before"));
        GeneratorDriverRunResult second = first.Driver.RunGenerators(first.Input.WithAssemblyName("After")).GetRunResult();

        Assert.Equal(IncrementalStepRunReason.Modified,
            second.Results.Single().TrackedSteps[TrackingNames.CompilationFacts].Single().Outputs.Single().Reason);
        AssertStepsCached(second, TrackingNames.Specs, TrackingNames.DuplicateNames);
        string source = ToDictionary(second)["Demo.Packet.SlabCache.g.cs"];
        Assert.Equal(first.Sources["Demo.Packet.SlabCache.g.cs"].Replace("\"Before\"", "\"After\"", StringComparison.Ordinal), source);
    }

    [Fact]
    public void The_rerun_check_fails_on_a_step_that_holds_a_syntax_node()
    {
        var exception = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => RunProbe(new SyntaxHoldingGenerator()));
        Assert.Contains(ProbeStep + " holds a ", exception.Message);
    }

    [Fact]
    public void The_rerun_check_fails_on_a_step_whose_model_is_not_equatable()
    {
        var exception = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => RunProbe(new ArrayModelGenerator()));
        Assert.Contains(ProbeStep + " produced outputs that do not equal", exception.Message);
    }

    private const string ProbeStep = "Probe";

    private static void RunProbe(IIncrementalGenerator generator)
    {
        CSharpCompilation compilation = TestCompilation.Create(new[] { Annotated });
        GeneratorDriver driver = TestCompilation.CreateDriver(compilation, generator).RunGenerators(compilation);
        IncrementalAssert.RerunIsCached(driver, compilation.Clone(), new[] { ProbeStep });
    }

    /// <summary>Carries the struct's declaration through a step, as a generator must not.</summary>
    private sealed class SyntaxHoldingGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValuesProvider<SyntaxNode> nodes = context.SyntaxProvider
                .ForAttributeWithMetadataName(SlabCacheGenerator.AttributeMetadataName, static (_, _) => true, static (c, _) => c.TargetNode)
                .WithTrackingName(ProbeStep);
            context.RegisterSourceOutput(nodes, static (_, _) => { });
        }
    }

    /// <summary>Carries a plain array, which compares by reference, so every run looks like a change.</summary>
    private sealed class ArrayModelGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValuesProvider<string[]> names = context.SyntaxProvider
                .ForAttributeWithMetadataName(SlabCacheGenerator.AttributeMetadataName, static (_, _) => true, static (c, _) => new[] { c.TargetSymbol.Name })
                .WithTrackingName(ProbeStep);
            context.RegisterSourceOutput(names, static (_, _) => { });
        }
    }
}
