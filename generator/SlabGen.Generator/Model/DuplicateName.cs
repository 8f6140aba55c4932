namespace SlabGen.Generator.Model;

/// <summary>A cache name that more than one struct uses, and those structs (for the message).</summary>
internal sealed record DuplicateName(string CacheName, string Structs);
