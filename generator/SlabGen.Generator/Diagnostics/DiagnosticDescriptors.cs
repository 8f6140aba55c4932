using System;
using System.Globalization;
using Microsoft.CodeAnalysis;
using SlabGen.Policy;

namespace SlabGen.Generator.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. IDs are never reused; each has an anchor in docs/diagnostics.md and a row
/// in AnalyzerReleases.Unshipped.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    public const string Category = "SlabGen";

    /// <summary>Where the help links point: docs/diagnostics.md in the repository (see RepositoryUrl).</summary>
    public const string HelpLinkBase = "https://example.invalid/slabgen/blob/main/docs/diagnostics.md#";

    public const string NotPartialId = "SLAB001";
    public const string ContainingTypeNotPartialId = "SLAB002";
    public const string NotUnmanagedId = "SLAB003";
    public const string GenericId = "SLAB004";
    public const string CtorNotFoundId = "SLAB005";
    public const string CtorSignatureId = "SLAB006";
    public const string InvalidAlignId = "SLAB007";
    public const string InvalidLimitId = "SLAB008";
    public const string InvalidBatchCountId = "SLAB009";
    public const string InvalidSharedFactorId = "SLAB010";
    public const string DuplicateNameId = "SLAB011";
    public const string TooLargeId = "SLAB012";
    public const string UnsafeRequiredId = "SLAB013";
    public const string MergeIncompatibleId = "SLAB014";
    public const string LayoutUnknownId = "SLAB015";
    public const string InvalidNameId = "SLAB016";
    public const string MemberConflictId = "SLAB017";
    public const string LanguageVersionId = "SLAB018";
    public const string FileLocalId = "SLAB019";

    public static readonly DiagnosticDescriptor NotPartial = Error(NotPartialId,
        "A [SlabCache] struct must be partial",
        "The [SlabCache] struct '{0}' must be declared partial so that SlabGen can add its cache to it");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error(ContainingTypeNotPartialId,
        "A type containing a [SlabCache] struct must be partial",
        "'{0}' contains the [SlabCache] struct '{1}' and must be declared partial");

    public static readonly DiagnosticDescriptor NotUnmanaged = Error(NotUnmanagedId,
        "A [SlabCache] struct must be unmanaged",
        "'{0}' is not an unmanaged type: {1}");

    public static readonly DiagnosticDescriptor Generic = Error(GenericId,
        "A [SlabCache] struct must not be generic",
        "'{0}' is generic or nested in a generic type; a slab cache needs one object size fixed at compile time");

    public static readonly DiagnosticDescriptor CtorNotFound = Error(CtorNotFoundId,
        "The Ctor of a [SlabCache] struct names no method",
        "Ctor '{0}' names no method of '{1}'");

    public static readonly DiagnosticDescriptor CtorSignature = Error(CtorSignatureId,
        "The Ctor of a [SlabCache] struct has the wrong signature",
        "Ctor '{0}' must be declared 'static void {0}(ref {1})'");

    public static readonly DiagnosticDescriptor InvalidAlign = Error(InvalidAlignId,
        "Invalid SlabCache.Align",
        "Align {0} is not 0 (natural) or a power of two up to " + Number(SlabLimits.MaxAlign));

    public static readonly DiagnosticDescriptor InvalidLimit = Error(InvalidLimitId,
        "Invalid SlabCache.Limit",
        "Limit {0} is outside 1.." + Number(Tunables.MaxLimit) + " (0 = tuned from the object size)");

    public static readonly DiagnosticDescriptor InvalidBatchCount = Error(InvalidBatchCountId,
        "Invalid SlabCache.BatchCount",
        "BatchCount {0} is outside 1..{1}, the cache's limit (0 = tuned)");

    public static readonly DiagnosticDescriptor InvalidSharedFactor = Error(InvalidSharedFactorId,
        "Invalid SlabCache.SharedFactor",
        "SharedFactor {0} is outside 1.." + Number(Tunables.MaxSharedFactor) + " (0 = tuned)");

    public static readonly DiagnosticDescriptor DuplicateName = Error(DuplicateNameId,
        "Two slab caches have the same name",
        "The cache name '{0}' is used by more than one [SlabCache] struct in this compilation: {1}");

    public static readonly DiagnosticDescriptor TooLarge = Error(TooLargeId,
        "A [SlabCache] struct is too large for a slab cache",
        "'{0}' needs {1}-byte slab slots ({2}-byte objects in the {3}-byte size class); a slab cache holds slots of at most "
        + Number(SlabLimits.MaxObjectSize) + " bytes");

    public static readonly DiagnosticDescriptor UnsafeRequired = Error(UnsafeRequiredId,
        "SlabGen needs unsafe code",
        "The cache generated for '{0}' hands out pointers and needs unsafe code: set <AllowUnsafeBlocks>true</AllowUnsafeBlocks> in the project");

    public static readonly DiagnosticDescriptor MergeIncompatible = Error(MergeIncompatibleId,
        "A [SlabCache] struct cannot merge into its size-class cache",
        "'{0}' cannot use SlabFlags.Merge: {1}");

    public static readonly DiagnosticDescriptor LayoutUnknown = Error(LayoutUnknownId,
        "SlabGen cannot compute the struct's layout",
        "SlabGen cannot compute the layout of '{0}': {1}");

    public static readonly DiagnosticDescriptor InvalidName = Error(InvalidNameId,
        "Invalid cache name",
        "The cache name {0} {1}");

    public static readonly DiagnosticDescriptor MemberConflict = Error(MemberConflictId,
        "A [SlabCache] struct declares a member SlabGen generates",
        "'{0}' already has a member named '{1}', which SlabGen generates; rename it");

    public static readonly DiagnosticDescriptor LanguageVersion = Error(LanguageVersionId,
        "SlabGen needs C# 9 or later",
        "The cache generated for '{0}' needs C# 9 or later (function pointers, init accessors); this project uses C# {1}");

    public static readonly DiagnosticDescriptor FileLocal = Error(FileLocalId,
        "A [SlabCache] struct must not be file-local",
        "'{0}' is file-local, so SlabGen cannot add its cache from another file; remove the 'file' modifier");

    public static readonly DiagnosticDescriptor[] All =
    {
        NotPartial, ContainingTypeNotPartial, NotUnmanaged, Generic, CtorNotFound, CtorSignature, InvalidAlign,
        InvalidLimit, InvalidBatchCount, InvalidSharedFactor, DuplicateName, TooLarge, UnsafeRequired,
        MergeIncompatible, LayoutUnknown, InvalidName, MemberConflict, LanguageVersion, FileLocal,
    };

    public static DiagnosticDescriptor ById(string id)
    {
        foreach (DiagnosticDescriptor descriptor in All)
        {
            if (descriptor.Id == id)
                return descriptor;
        }
        throw new ArgumentException("unknown SlabGen diagnostic id " + id, nameof(id));
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static DiagnosticDescriptor Error(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + id.ToLowerInvariant());
}
