extern alias SlabGenRuntime;

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SlabGen.Generator;

namespace SlabGen.Generator.Tests;

/// <summary>Builds test compilations the way a user's project is built, and runs the generator over them.</summary>
internal static class TestCompilation
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    public static ImmutableArray<MetadataReference> References => s_references.Value;

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    /// <summary>A library compilation of <paramref name="sources"/> (file names Test0.cs, Test1.cs, ...).</summary>
    public static CSharpCompilation Create(IEnumerable<string> sources, bool allowUnsafe = true, CSharpParseOptions? parseOptions = null,
        IEnumerable<MetadataReference>? extraReferences = null, string? assemblyName = null)
    {
        SyntaxTree[] trees = sources
            .Select((source, i) => CSharpSyntaxTree.ParseText(source, parseOptions ?? ParseOptions, path: "Test" + i + ".cs"))
            .ToArray();
        return CSharpCompilation.Create(
            assemblyName ?? "SlabGenTest_" + Guid.NewGuid().ToString("N"),
            trees,
            References.AddRange(extraReferences ?? Array.Empty<MetadataReference>()),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: allowUnsafe,
                nullableContextOptions: NullableContextOptions.Enable));
    }

    public static GeneratorRun Run(params string[] sources) => Run(Create(sources));

    /// <summary>
    /// Runs the generator over <paramref name="compilation"/>, then again over a clone of it, and asserts that the
    /// second run reused everything (<see cref="IncrementalAssert.RerunIsCached"/>): every test that runs the
    /// generator checks that its models are cacheable.
    /// </summary>
    public static GeneratorRun Run(CSharpCompilation compilation)
    {
        GeneratorDriver driver = CreateDriver(compilation);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        IncrementalAssert.RerunIsCached(driver, compilation.Clone(), IncrementalAssert.SlabGenStepNames);
        return new GeneratorRun(driver, compilation, output, diagnostics);
    }

    public static GeneratorDriver CreateDriver(CSharpCompilation compilation, IIncrementalGenerator? generator = null)
        => CSharpGeneratorDriver.Create(
            new[] { (generator ?? new SlabCacheGenerator()).AsSourceGenerator() },
            parseOptions: (CSharpParseOptions)compilation.SyntaxTrees.First().Options,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>The framework's reference assemblies (from the targeting pack) and the SlabGen runtime.</summary>
    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        string directory = Metadata("FrameworkReferenceAssemblies");
        if (!Directory.Exists(directory))
            throw new InvalidOperationException("The Microsoft.NETCore.App reference assemblies are not at " + directory + ".");
        return Directory.GetFiles(directory, "*.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .Append(MetadataReference.CreateFromFile(typeof(SlabGenRuntime::SlabGen.SlabCacheAttribute).Assembly.Location))
            .ToImmutableArray();
    }

    public static string RepositoryRoot => Metadata("RepositoryRoot");

    private static string Metadata(string key)
        => typeof(TestCompilation).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
            ?? throw new InvalidOperationException("no assembly metadata " + key);
}

/// <summary>One generator run: the driver (for re-runs), its input and output compilations and its diagnostics.</summary>
internal sealed record GeneratorRun(GeneratorDriver Driver, CSharpCompilation Input, Compilation Output, ImmutableArray<Diagnostic> Diagnostics)
{
    public GeneratorDriverRunResult Result => Driver.GetRunResult();

    /// <summary>The generated trees, by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources
        => Result.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString());

    /// <summary>Errors and warnings of the output compilation (the user's code plus the generated code).</summary>
    public IReadOnlyList<Diagnostic> CompilationDiagnostics
        => Output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
}
