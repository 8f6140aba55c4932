namespace SlabGen.Generator.Model;

/// <summary>
/// Everything the emitter needs for one valid <c>[SlabCache]</c> struct, as plain values: no symbols, syntax or
/// locations, so that an edit which does not change these values leaves the generated source cached.
/// </summary>
/// <param name="Namespace">The struct's namespace, escaped; empty for the global namespace.</param>
/// <param name="TypeName">The struct's name, escaped.</param>
/// <param name="Keyword"><c>struct</c> or <c>record struct</c>.</param>
/// <param name="FullyQualifiedName"><c>global::</c>-qualified name.</param>
/// <param name="DisplayName">The name for messages (no <c>global::</c>).</param>
/// <param name="HintName">A file name unique in the compilation.</param>
/// <param name="Containers">Containing types, outermost first.</param>
/// <param name="CacheName">The cache's name in slabinfo.</param>
/// <param name="Layout">What the generator computed and tuned (<c>kmem_cache_create</c>'s arguments).</param>
/// <param name="Flags">The flags as written (the runtime's <see cref="SlabFlags"/>, compiled into the generator).</param>
/// <param name="CtorName">The ctor method, or null.</param>
/// <param name="Merge">True when the cache is an alias of its kmalloc size-class cache (<c>find_mergeable</c>).</param>
internal sealed record SlabCacheSpec(
    string Namespace,
    string TypeName,
    string Keyword,
    string FullyQualifiedName,
    string DisplayName,
    string HintName,
    EquatableArray<ContainingTypeSpec> Containers,
    string CacheName,
    CacheLayoutSpec Layout,
    SlabFlags Flags,
    string? CtorName,
    bool Merge);
