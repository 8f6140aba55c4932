using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using SlabGen.Generator.Diagnostics;
using SlabGen.Generator.Emit;
using SlabGen.Generator.Model;
using SlabGen.Generator.Parse;

namespace SlabGen.Generator;

/// <summary>
/// The <c>[SlabCache]</c> generator: for each valid <c>partial struct T</c> it emits a typed slab cache
/// (<c>kmem_cache_create</c>) with <c>Alloc</c>, <c>Free</c> and <c>Rent</c>, its size rounded into its kmalloc size
/// class and its tunables from <c>enable_cpucache</c>'s table. Parser → value-equatable model → emitter; diagnostics
/// travel as data and are reported by their own output.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class SlabCacheGenerator : IIncrementalGenerator
{
    /// <summary>The attribute, matched by name so the generator never loads the runtime assembly.</summary>
    public const string AttributeMetadataName = "SlabGen.SlabCacheAttribute";

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<SlabCacheTarget> targets = context.SyntaxProvider
            .ForAttributeWithMetadataName(AttributeMetadataName, Parser.IsCandidate, Parser.Parse)
            .Where(static target => target is not null)
            .Select(static (target, _) => target!)
            .WithTrackingName(TrackingNames.Targets);

        IncrementalValuesProvider<SlabCacheSpec> specs = targets
            .Where(static target => target.Spec is not null)
            .Select(static (target, _) => target.Spec!)
            .WithTrackingName(TrackingNames.Specs);

        IncrementalValueProvider<EquatableArray<DuplicateName>> duplicateNames = targets
            .Select(static (target, _) => (target.CacheName, target.DisplayName))
            .Collect()
            .Select(static (names, _) => DuplicatesOf(names))
            .WithTrackingName(TrackingNames.DuplicateNames);

        IncrementalValueProvider<CompilationFacts> facts = context.CompilationProvider
            .Select(static (compilation, _) => (AllowUnsafe: compilation.Options is CSharpCompilationOptions { AllowUnsafe: true }, compilation.AssemblyName))
            .Combine(context.ParseOptionsProvider.Select(static (options, _) => ((CSharpParseOptions)options).LanguageVersion))
            .Select(static (pair, _) => new CompilationFacts(pair.Left.AllowUnsafe, pair.Right.ToDisplayString(), pair.Right >= LanguageVersion.CSharp9, pair.Left.AssemblyName))
            .WithTrackingName(TrackingNames.CompilationFacts);

        IncrementalValuesProvider<((SlabCacheSpec Spec, EquatableArray<DuplicateName> Duplicates) Left, CompilationFacts Facts)> emitInputs = specs
            .Combine(duplicateNames)
            .Combine(facts)
            .WithTrackingName(TrackingNames.EmitInputs);

        context.RegisterSourceOutput(emitInputs, static (output, input) =>
        {
            SlabCacheSpec spec = input.Left.Spec;
            if (!CanEmit(input.Facts) || Find(input.Left.Duplicates, spec.CacheName) is not null)
                return;
            output.AddSource(spec.HintName, Emitter.Emit(spec, input.Facts.AssemblyName));
        });

        IncrementalValuesProvider<((SlabCacheTarget Target, EquatableArray<DuplicateName> Duplicates) Left, CompilationFacts Facts)> diagnosticInputs = targets
            .Combine(duplicateNames)
            .Combine(facts)
            .WithTrackingName(TrackingNames.DiagnosticInputs);

        context.RegisterSourceOutput(diagnosticInputs, static (output, input) =>
        {
            foreach (Diagnostic diagnostic in DiagnosticsOf(input.Left.Target, input.Left.Duplicates, input.Facts))
                output.ReportDiagnostic(diagnostic);
        });
    }

    private static bool CanEmit(CompilationFacts facts) => facts.AllowUnsafe && facts.SupportsGeneratedCode;

    private static IEnumerable<Diagnostic> DiagnosticsOf(SlabCacheTarget target, EquatableArray<DuplicateName> duplicates, CompilationFacts facts)
    {
        foreach (DiagnosticInfo info in target.Diagnostics)
            yield return info.ToDiagnostic();
        if (Find(duplicates, target.CacheName) is DuplicateName duplicate)
        {
            yield return DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateName, target.NameLocation, target.CacheName,
                duplicate.Structs).ToDiagnostic();
        }
        // Compilation-wide problems are reported on every struct they stop, but only on structs that are otherwise fine.
        if (target.Spec is null)
            yield break;
        if (!facts.AllowUnsafe)
            yield return DiagnosticInfo.Create(DiagnosticDescriptors.UnsafeRequired, target.IdentifierLocation, target.DisplayName).ToDiagnostic();
        if (!facts.SupportsGeneratedCode)
            yield return DiagnosticInfo.Create(DiagnosticDescriptors.LanguageVersion, target.IdentifierLocation, target.DisplayName, facts.LanguageVersion).ToDiagnostic();
    }

    private static DuplicateName? Find(EquatableArray<DuplicateName> duplicates, string cacheName)
        => duplicates.FirstOrDefault(d => d.CacheName == cacheName);

    private static EquatableArray<DuplicateName> DuplicatesOf(ImmutableArray<(string CacheName, string DisplayName)> names)
        => new(names
            .GroupBy(n => n.CacheName, System.StringComparer.Ordinal)
            .Where(g => g.Count() > 1)
            .OrderBy(g => g.Key, System.StringComparer.Ordinal)
            .Select(g => new DuplicateName(g.Key, string.Join(", ", g.Select(n => n.DisplayName).OrderBy(n => n, System.StringComparer.Ordinal))))
            .ToArray());
}
