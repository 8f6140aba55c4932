using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using SlabGen.Generator.Diagnostics;
using SlabGen.Generator.Model;
using SlabGen.Policy;

namespace SlabGen.Generator.Parse;

/// <summary>
/// Turns one <c>[SlabCache]</c> struct into a <see cref="SlabCacheTarget"/>: checks the struct and the attribute,
/// computes the layout, rounds it into its size class and picks the tunables. Symbols and syntax stay in here.
/// </summary>
internal static class Parser
{
    /// <summary>The members the emitter adds to the struct; a user member with one of these names is SLAB017.</summary>
    public static readonly string[] GeneratedMemberNames = { "Cache", "Alloc", "Free", "Rent", "RentHandle", "Local", "SlabSpec", "__SlabGenState" };

    private static readonly SymbolDisplayFormat NamespaceFormat = new(
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

    public static bool IsCandidate(SyntaxNode node, CancellationToken _)
        => node is StructDeclarationSyntax || node.IsKind(SyntaxKind.RecordStructDeclaration);

    public static SlabCacheTarget? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax declaration)
            return null;
        // [SlabCache] on two partial declarations is CS0579 already; generate for the first only, so hint names stay unique.
        if (FirstApplication(type, declaration) is not AttributeData attribute)
            return null;

        var diagnostics = new List<DiagnosticInfo>();
        string display = type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
        LocationInfo? identifier = LocationInfo.From(declaration.Identifier);
        var arguments = AttributeArguments.Read(attribute, cancellationToken);

        if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, identifier, display));
        if (declaration.Modifiers.Any(SyntaxKind.FileKeyword))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FileLocal, identifier, display));

        var containers = new List<ContainingTypeSpec>();
        foreach (TypeDeclarationSyntax outer in declaration.Ancestors().OfType<TypeDeclarationSyntax>())
        {
            if (!outer.Modifiers.Any(SyntaxKind.PartialKeyword))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ContainingTypeNotPartial,
                    LocationInfo.From(outer.Identifier), outer.Identifier.ValueText, display));
            if (outer.Modifiers.Any(SyntaxKind.FileKeyword))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FileLocal, LocationInfo.From(outer.Identifier), outer.Identifier.ValueText));
            containers.Insert(0, new ContainingTypeSpec(Keyword(outer), outer.Identifier.ToString()));
        }

        bool generic = false;
        for (INamedTypeSymbol? t = type; t is not null; t = t.ContainingType)
            generic |= t.TypeParameters.Length > 0;
        if (generic)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.Generic, identifier, display));

        bool unmanaged = !generic && CheckUnmanaged(type, display, identifier, diagnostics);

        string cacheName = arguments.Name ?? CacheNames.ToSnakeCase(type.Name);
        LocationInfo? nameLocation = arguments.NameLocation ?? identifier;
        if (CacheNames.Problem(cacheName, defaulted: arguments.Name is null) is string nameProblem)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidName, nameLocation, CacheNameRules.Quote(cacheName), nameProblem));

        CheckMemberNames(type, display, identifier, diagnostics);
        bool hasCtor = CheckCtor(type, display, arguments, diagnostics);
        CheckAlign(arguments, diagnostics);
        bool hwCacheAlign = (arguments.Flags & SlabFlags.HwCacheAlign) != 0;
        bool merge = (arguments.Flags & SlabFlags.Merge) != 0;

        cancellationToken.ThrowIfCancellationRequested();
        CacheLayoutSpec? layout = null;
        if (unmanaged)
            layout = ComputeLayout(context.SemanticModel.Compilation, type, display, identifier, arguments, hasCtor, hwCacheAlign, diagnostics, cancellationToken);
        CheckTunables(arguments, layout, diagnostics);
        if (merge)
            CheckMerge(display, arguments, layout, hwCacheAlign, diagnostics);

        SlabCacheSpec? spec = null;
        if (diagnostics.Count == 0 && layout is not null)
        {
            spec = new SlabCacheSpec(
                Namespace: type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString(NamespaceFormat),
                TypeName: declaration.Identifier.ToString(),
                Keyword: Keyword(declaration),
                FullyQualifiedName: type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                DisplayName: display,
                HintName: HintName(type),
                Containers: new EquatableArray<ContainingTypeSpec>(containers),
                CacheName: cacheName,
                Layout: layout,
                Flags: arguments.Flags,
                CtorName: hasCtor ? arguments.Ctor : null,
                Merge: merge);
        }
        return new SlabCacheTarget(spec, cacheName, display, nameLocation, identifier, new EquatableArray<DiagnosticInfo>(diagnostics));
    }

    /// <summary>
    /// The struct's first <c>[SlabCache]</c> when <paramref name="declaration"/> is the partial declaration that carries
    /// it, else null. The transform runs once per declaration with the attribute, and its <c>Attributes</c> are all of
    /// them in the declaration's file, so only the attribute's own span says which declaration is the first.
    /// </summary>
    private static AttributeData? FirstApplication(INamedTypeSymbol type, TypeDeclarationSyntax declaration)
    {
        foreach (AttributeData candidate in type.GetAttributes())
        {
            if (candidate.AttributeClass?.ToDisplayString() != SlabCacheGenerator.AttributeMetadataName)
                continue;
            SyntaxReference? at = candidate.ApplicationSyntaxReference;
            return at is null || (at.SyntaxTree == declaration.SyntaxTree && declaration.AttributeLists.Span.Contains(at.Span))
                ? candidate
                : null;
        }
        return null;
    }

    private static string Keyword(TypeDeclarationSyntax declaration)
        => declaration switch
        {
            RecordDeclarationSyntax record => record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
            StructDeclarationSyntax => "struct",
            InterfaceDeclarationSyntax => "interface",
            _ => "class",
        };

    /// <summary>The struct's metadata name made into a file name: <c>Ns.Outer+Inner.SlabCache.g.cs</c>.</summary>
    private static string HintName(INamedTypeSymbol type)
    {
        string name = type.MetadataName;
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            name = outer.MetadataName + "+" + name;
        if (!type.ContainingNamespace.IsGlobalNamespace)
            name = type.ContainingNamespace.ToDisplayString() + "." + name;
        return name.Replace('`', '_') + ".SlabCache.g.cs";
    }

    private static bool CheckUnmanaged(INamedTypeSymbol type, string display, LocationInfo? identifier, List<DiagnosticInfo> diagnostics)
    {
        if (type.IsRefLikeType)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotUnmanaged, identifier, display,
                "it is a ref struct, and slab objects live in native memory"));
            return false;
        }
        if (type.IsUnmanagedType)
            return true;
        (IFieldSymbol? field, string? path, ITypeSymbol? fieldType) = FindManagedField(type, 0);
        if (fieldType is { TypeKind: TypeKind.Error })
            return false; // the compiler reports the unknown type
        if (field is null || path is null || fieldType is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotUnmanaged, identifier, display, "the compiler does not consider it unmanaged"));
            return false;
        }
        LocationInfo? at = LocationInfo.From(FieldLocation(field)) ?? identifier;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotUnmanaged, at, display,
            "field '" + path + "' is of type '" + fieldType.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)
            + "', which is a reference type or holds one"));
        return false;
    }

    /// <summary>The first field whose type makes the struct managed, its dotted path and the managed type.</summary>
    private static (IFieldSymbol? Field, string? Path, ITypeSymbol? Type) FindManagedField(INamedTypeSymbol type, int depth)
    {
        foreach (IFieldSymbol field in LayoutCalculator.InstanceFields(type))
        {
            string name = field.AssociatedSymbol?.Name ?? field.Name;
            if (field.Type.IsUnmanagedType)
                continue;
            if (depth < 16 && field.Type is INamedTypeSymbol { TypeKind: TypeKind.Struct } inner)
            {
                (IFieldSymbol? innerField, string? innerPath, ITypeSymbol? innerType) = FindManagedField(inner, depth + 1);
                if (innerField is not null)
                    return (field, name + "." + innerPath, innerType);
            }
            return (field, name, field.Type);
        }
        return (null, null, null);
    }

    private static Location? FieldLocation(IFieldSymbol field)
    {
        ISymbol declared = field.AssociatedSymbol ?? field;
        return declared.Locations.FirstOrDefault(l => l.IsInSource);
    }

    private static void CheckMemberNames(INamedTypeSymbol type, string display, LocationInfo? identifier, List<DiagnosticInfo> diagnostics)
    {
        foreach (string name in GeneratedMemberNames)
        {
            if (type.Name == name)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberConflict, identifier, display, name));
                continue;
            }
            ISymbol? member = type.GetMembers(name).FirstOrDefault(m => !m.IsImplicitlyDeclared);
            if (member is not null)
            {
                LocationInfo? at = LocationInfo.From(member.Locations.FirstOrDefault(l => l.IsInSource)) ?? identifier;
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberConflict, at, display, name));
            }
        }
    }

    /// <summary>Checks that Ctor names a <c>static void M(ref T)</c>; true when there is a valid ctor.</summary>
    private static bool CheckCtor(INamedTypeSymbol type, string display, AttributeArguments arguments, List<DiagnosticInfo> diagnostics)
    {
        if (arguments.Ctor is null)
            return false;
        List<IMethodSymbol> methods = type.GetMembers(arguments.Ctor).OfType<IMethodSymbol>()
            .Where(m => m.MethodKind == MethodKind.Ordinary).ToList();
        if (methods.Count == 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CtorNotFound, arguments.CtorLocation, arguments.Ctor, display));
            return false;
        }
        if (methods.Any(m => m.IsStatic && m.ReturnsVoid && m.TypeParameters.Length == 0 && m.Parameters.Length == 1
                && m.Parameters[0].RefKind == RefKind.Ref && SymbolEqualityComparer.Default.Equals(m.Parameters[0].Type, type)))
            return true;
        LocationInfo? at = LocationInfo.From(methods[0].Locations.FirstOrDefault(l => l.IsInSource)) ?? arguments.CtorLocation;
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.CtorSignature, at, arguments.Ctor,
            type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
        return false;
    }

    private static void CheckAlign(AttributeArguments arguments, List<DiagnosticInfo> diagnostics)
    {
        if (!IsValidAlign(arguments.Align))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidAlign, arguments.AlignLocation, Text(arguments.Align)));
    }

    /// <summary>0 (natural) or a power of two up to <see cref="SlabLimits.MaxAlign"/>, as the runtime's layout requires.</summary>
    private static bool IsValidAlign(int align) => align >= 0 && align <= SlabLimits.MaxAlign && (align & (align - 1)) == 0;

    private static CacheLayoutSpec? ComputeLayout(Compilation compilation, INamedTypeSymbol type, string display,
        LocationInfo? identifier, AttributeArguments arguments, bool hasCtor, bool hwCacheAlign,
        List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        LayoutResult result = new LayoutCalculator(compilation, cancellationToken).Compute(type);
        if (!result.IsKnown)
        {
            LocationInfo? at = (result.Field is null ? null : LocationInfo.From(FieldLocation(result.Field))) ?? identifier;
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayoutUnknown, at, display, result.Message));
            return null;
        }

        CacheGeometry geometry = CacheGeometry.Of(result.Layout, IsValidAlign(arguments.Align) ? arguments.Align : 0, hwCacheAlign, hasCtor);
        if (!geometry.Fits)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TooLarge, identifier, display, Text(geometry.Slot),
                Text(result.Layout.Size), geometry.SizeClass == 0 ? "(none)" : Text(geometry.SizeClass)));
            return null;
        }

        // enable_cpucache picks the tunables from the slot size (cachep->size), as the runtime does for this cache.
        int slot = (int)geometry.Slot;
        int limit = Tunables.LimitFor(slot);
        int batchCount = Tunables.BatchCountFor(limit);
        int sharedFactor = Tunables.SharedFactorFor(slot);
        if (arguments.Limit is >= 1 and <= Tunables.MaxLimit)
        {
            limit = arguments.Limit;
            batchCount = Tunables.BatchCountFor(limit);
        }
        bool batchCountGiven = arguments.BatchCount >= 1 && arguments.BatchCount <= limit;
        if (batchCountGiven)
            batchCount = arguments.BatchCount;
        bool limitOrBatchCountGiven = arguments.Limit is >= 1 and <= Tunables.MaxLimit || batchCountGiven;
        bool sharedFactorGiven = arguments.SharedFactor is >= 1 and <= Tunables.MaxSharedFactor;
        if (sharedFactorGiven)
            sharedFactor = arguments.SharedFactor;
        return new CacheLayoutSpec(result.Layout.Size, result.Layout.Align, geometry.Align, geometry.SizeClass, limit, batchCount, sharedFactor, limitOrBatchCountGiven, sharedFactorGiven);
    }

    private static void CheckTunables(AttributeArguments arguments, CacheLayoutSpec? layout, List<DiagnosticInfo> diagnostics)
    {
        if (arguments.Limit < 0 || arguments.Limit > Tunables.MaxLimit)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidLimit, arguments.LimitLocation, Text(arguments.Limit)));
        int limit = arguments.Limit is >= 1 and <= Tunables.MaxLimit ? arguments.Limit
            : layout is not null ? layout.Limit
            : Tunables.MaxLimit;
        if (arguments.BatchCount < 0 || arguments.BatchCount > limit)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidBatchCount, arguments.BatchCountLocation,
                Text(arguments.BatchCount), Text(limit)));
        if (arguments.SharedFactor < 0 || arguments.SharedFactor > Tunables.MaxSharedFactor)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidSharedFactor, arguments.SharedFactorLocation,
                Text(arguments.SharedFactor)));
    }

    // find_mergeable's tests, at compile time: what would keep this cache from sharing its size class's cache.
    private static void CheckMerge(string display, AttributeArguments arguments, CacheLayoutSpec? layout, bool hwCacheAlign,
        List<DiagnosticInfo> diagnostics)
    {
        string? problem =
            (arguments.Flags & SlabFlags.NoMerge) != 0 ? "it also has SlabFlags.NoMerge"
            : arguments.Ctor is not null ? "it has a Ctor, and a shared cache's objects are not constructed"
            : (arguments.Flags & SlabFlagSets.Debug) != 0 ? "it has debug flags (ConsistencyChecks, RedZone, Poison, StoreUser or Trace), and a debug cache never merges (SLAB_NEVER_MERGE)"
            : hwCacheAlign ? "SlabFlags.HwCacheAlign changes its layout"
            : arguments.Limit != 0 || arguments.BatchCount != 0 || arguments.SharedFactor != 0 ? "it sets its own Limit, BatchCount or SharedFactor, which belong to the shared cache"
            : layout is null ? null
            : layout.SizeClass > SizeClasses.MaxCacheSize ? "its " + Text(layout.SizeClass) + "-byte size class has no kmalloc cache (they stop at " + Text(SizeClasses.MaxCacheSize) + " bytes)"
            : null; // no alignment rule: the size class is always a multiple of the alignment (see CacheGeometry.Of)
        if (problem is not null)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MergeIncompatible, arguments.FlagsLocation, display, problem));
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
