namespace SlabGen.Generator.Model;

/// <summary>
/// The only facts about the compilation that the generated code depends on. The compilation itself changes on every
/// keystroke; this record changes only when a project setting does.
/// </summary>
/// <param name="AllowUnsafe">AllowUnsafeBlocks is on.</param>
/// <param name="LanguageVersion">The effective C# version, as its display string ("9.0", "14.0", ...).</param>
/// <param name="SupportsGeneratedCode">The language version is C# 9 or later.</param>
/// <param name="AssemblyName">
/// The assembly being compiled, the caches' name scope (<c>SlabCacheOptions.NameScope</c>): a cache whose name another
/// assembly's cache took first is named <c>name@AssemblyName</c>. Null (a compilation without a name): no scope.
/// </param>
internal sealed record CompilationFacts(bool AllowUnsafe, string LanguageVersion, bool SupportsGeneratedCode, string? AssemblyName);
