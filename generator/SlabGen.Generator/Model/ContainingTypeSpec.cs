namespace SlabGen.Generator.Model;

/// <summary>A type that contains the <c>[SlabCache]</c> struct, re-declared around the generated part: <c>partial {Keyword} {Name}</c>.</summary>
internal sealed record ContainingTypeSpec(string Keyword, string Name);
