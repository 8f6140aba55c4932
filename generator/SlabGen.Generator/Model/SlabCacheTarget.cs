using SlabGen.Generator.Diagnostics;

namespace SlabGen.Generator.Model;

/// <summary>
/// One <c>[SlabCache]</c> struct as the parser saw it: its spec when it is valid, its diagnostics otherwise, and the
/// places that compilation-wide diagnostics (duplicate names, unsafe code) point at.
/// </summary>
/// <param name="Spec">The emitter's model, or null when <paramref name="Diagnostics"/> is not empty.</param>
/// <param name="CacheName">The cache name (given or defaulted), for the duplicate-name check.</param>
/// <param name="DisplayName">The struct's name for messages.</param>
/// <param name="NameLocation">The <c>Name</c> argument, or the struct's identifier when the name is defaulted.</param>
/// <param name="IdentifierLocation">The struct's identifier.</param>
/// <param name="Diagnostics">What is wrong with the struct or its attribute.</param>
internal sealed record SlabCacheTarget(
    SlabCacheSpec? Spec,
    string CacheName,
    string DisplayName,
    LocationInfo? NameLocation,
    LocationInfo? IdentifierLocation,
    EquatableArray<DiagnosticInfo> Diagnostics);
