namespace SlabGen.Generator.Model;

/// <summary>
/// The only facts about the compilation that the generated code depends on. The compilation itself changes on every
/// keystroke; this record changes only when a project setting does.
/// </summary>
/// <param name="AllowUnsafe">AllowUnsafeBlocks is on.</param>
/// <param name="LanguageVersion">The effective C# version, as its display string ("9.0", "14.0", ...).</param>
/// <param name="SupportsGeneratedCode">The language version is C# 9 or later.</param>
internal sealed record CompilationFacts(bool AllowUnsafe, string LanguageVersion, bool SupportsGeneratedCode);
