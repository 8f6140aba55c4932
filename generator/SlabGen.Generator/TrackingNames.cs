namespace SlabGen.Generator;

/// <summary>Names of the incremental pipeline's steps, for <c>WithTrackingName</c> and the caching tests.</summary>
internal static class TrackingNames
{
    /// <summary>Each <c>[SlabCache]</c> struct parsed into a target (model plus diagnostics).</summary>
    public const string Targets = nameof(Targets);

    /// <summary>The location-free model of each valid struct: what the emitter reads.</summary>
    public const string Specs = nameof(Specs);

    /// <summary>Every cache name used by more than one struct in the compilation.</summary>
    public const string DuplicateNames = nameof(DuplicateNames);

    /// <summary>The compilation facts the generated code depends on (unsafe code allowed, language version).</summary>
    public const string CompilationFacts = nameof(CompilationFacts);

    /// <summary>Specs joined with the duplicate names and compilation facts, ready to emit.</summary>
    public const string EmitInputs = nameof(EmitInputs);

    /// <summary>Targets joined with the duplicate names and compilation facts, ready to report.</summary>
    public const string DiagnosticInputs = nameof(DiagnosticInputs);
}
