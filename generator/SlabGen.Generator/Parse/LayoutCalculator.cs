using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace SlabGen.Generator.Parse;

/// <summary>
/// Computes the unmanaged size and alignment of a struct from its fields, the way the runtime lays out an unmanaged
/// struct on a 64-bit process: sequential fields each at the next multiple of min(its alignment, Pack); explicit
/// fields at their FieldOffset; the size rounded up to the struct's alignment, StructLayout.Size as a minimum, and an
/// empty struct of 1 byte. Where it cannot be sure it says why instead of guessing (SLAB015); the generated code still
/// checks the result against <c>sizeof(T)</c> once, when the cache is created.
/// </summary>
internal sealed class LayoutCalculator
{
    private const int MaxDepth = 32;
    private const int LayoutSequential = 0;
    private const int LayoutExplicit = 2;
    private const int LayoutAuto = 3;

    private readonly Compilation _compilation;
    private readonly CancellationToken _cancellationToken;

    public LayoutCalculator(Compilation compilation, CancellationToken cancellationToken)
    {
        _compilation = compilation;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The layout of <paramref name="type"/>.</summary>
    public LayoutResult Compute(ITypeSymbol type) => Of(type, 0);

    private LayoutResult Of(ITypeSymbol type, int depth)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        if (KnownLayouts.Find(type) is TypeLayout known)
            return LayoutResult.Known(known);
        if (depth > MaxDepth)
            return LayoutResult.Unknown("its fields nest more than " + MaxDepth + " structs deep", type);
        if (type.TypeKind == TypeKind.TypeParameter)
            return LayoutResult.Unknown("its size depends on a type parameter", type);
        if (type is not INamedTypeSymbol named || named.TypeKind is not (TypeKind.Struct or TypeKind.Enum))
            return LayoutResult.Unknown("it is not an unmanaged struct", type);
        if (named.TypeKind == TypeKind.Enum)
        {
            return named.EnumUnderlyingType is { } underlying
                ? Of(underlying, depth + 1)
                : LayoutResult.Unknown("its underlying type is unknown", type);
        }
        if (named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
            return OfNullable(named, depth);
        if (KnownLayouts.Unsupported(named) is string unsupported)
            return LayoutResult.Unknown(unsupported, type);
        return OfStruct(named, depth);
    }

    // Nullable<T> is { bool hasValue; T value; }.
    private LayoutResult OfNullable(INamedTypeSymbol nullable, int depth)
    {
        LayoutResult value = Of(nullable.TypeArguments[0], depth + 1);
        if (!value.IsKnown)
            return value;
        int align = value.Layout.Align;
        int size = TypeLayout.AlignUp(TypeLayout.AlignUp(1, align) + value.Layout.Size, align);
        return LayoutResult.Known(new TypeLayout(size, align));
    }

    private LayoutResult OfStruct(INamedTypeSymbol type, int depth)
    {
        bool inSource = type.Locations.Any(l => l.IsInSource);
        List<IFieldSymbol> fields = InstanceFields(type);
        if (!inSource && fields.Any(f => f.Name is "_dummyPrimitive" or "_dummy"))
            return LayoutResult.Unknown("its reference assembly hides its fields, and SlabGen has no table entry for it", type);
        if (inSource)
        {
            if (FieldsSplitAcrossDeclarations(type, fields))
                return LayoutResult.Unknown("its instance fields are declared in more than one partial declaration, so their order is undefined (CS0282)", type);
            if (CapturedPrimaryConstructorParameter(type) is string captured)
                return LayoutResult.Unknown("primary constructor parameter '" + captured + "' is captured into a field the compiler does not show", type);
        }

        ReadStructLayout(type, out int kind, out int pack, out int minSize);
        if (kind == LayoutAuto)
            return LayoutResult.Unknown("it uses LayoutKind.Auto, so the runtime may reorder its fields", type);

        if (InlineArrayLength(type) is int length)
        {
            if (fields.Count != 1 || length < 1)
                return LayoutResult.Unknown("an inline array must have one instance field and a positive length", type);
            LayoutResult element = FieldLayout(fields[0], depth);
            if (!element.IsKnown)
                return element;
            return LayoutResult.Known(new TypeLayout(element.Layout.Size * length, element.Layout.Align));
        }

        int offset = 0, end = 0, align = 1;
        foreach (IFieldSymbol field in fields)
        {
            LayoutResult f = FieldLayout(field, depth);
            if (!f.IsKnown)
                return f;
            int fieldAlign = pack > 0 ? Math.Min(f.Layout.Align, pack) : f.Layout.Align;
            align = Math.Max(align, fieldAlign);
            if (kind == LayoutExplicit)
            {
                if (FieldOffset(field) is not int at)
                    return LayoutResult.Unknown("an explicit layout needs a FieldOffset on every field", type);
                end = Math.Max(end, at + f.Layout.Size);
            }
            else
            {
                offset = TypeLayout.AlignUp(offset, fieldAlign) + f.Layout.Size;
                end = offset;
            }
        }
        int size = Math.Max(TypeLayout.AlignUp(end, align), 1);
        return LayoutResult.Known(new TypeLayout(Math.Max(size, minSize), align));
    }

    private LayoutResult FieldLayout(IFieldSymbol field, int depth)
    {
        LayoutResult result;
        if (field.IsFixedSizeBuffer && field.Type is IPointerTypeSymbol pointer)
        {
            result = Of(pointer.PointedAtType, depth + 1);
            if (result.IsKnown)
                result = LayoutResult.Known(new TypeLayout(result.Layout.Size * field.FixedSize, result.Layout.Align));
        }
        else
            result = Of(field.Type, depth + 1);
        return result.IsKnown ? result : result.Through(field);
    }

    /// <summary>Instance fields in declaration order, with auto-property and record backing fields.</summary>
    public static List<IFieldSymbol> InstanceFields(INamedTypeSymbol type)
        => type.GetMembers().OfType<IFieldSymbol>().Where(f => !f.IsStatic && !f.IsConst).ToList();

    private static void ReadStructLayout(INamedTypeSymbol type, out int kind, out int pack, out int minSize)
    {
        kind = LayoutSequential;
        pack = 0;
        minSize = 0;
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() != "System.Runtime.InteropServices.StructLayoutAttribute")
                continue;
            if (attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is object value)
                kind = Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
            {
                if (named.Key == "Pack" && named.Value.Value is int p)
                    pack = p;
                else if (named.Key == "Size" && named.Value.Value is int s)
                    minSize = s;
            }
        }
    }

    private static int? FieldOffset(IFieldSymbol field)
        => IntArgument(field, "System.Runtime.InteropServices.FieldOffsetAttribute");

    private static int? InlineArrayLength(INamedTypeSymbol type)
        => IntArgument(type, "System.Runtime.CompilerServices.InlineArrayAttribute");

    /// <summary>The single int constructor argument of the attribute named <paramref name="attributeName"/> on <paramref name="symbol"/>.</summary>
    private static int? IntArgument(ISymbol symbol, string attributeName)
    {
        foreach (AttributeData attribute in symbol.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == attributeName
                && attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is int value)
                return value;
        }
        return null;
    }

    private static bool FieldsSplitAcrossDeclarations(INamedTypeSymbol type, List<IFieldSymbol> fields)
    {
        var declarations = new HashSet<SyntaxNode>();
        foreach (IFieldSymbol field in fields)
        {
            ISymbol declared = field.AssociatedSymbol ?? field;
            foreach (SyntaxReference reference in declared.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax().FirstAncestorOrSelf<TypeDeclarationSyntax>() is { } declaration)
                    declarations.Add(declaration);
            }
        }
        return declarations.Count > 1;
    }

    /// <summary>
    /// A primary constructor parameter of a plain struct that a member uses is stored in a field that the symbol API
    /// does not list; its name, or null.
    /// </summary>
    private string? CapturedPrimaryConstructorParameter(INamedTypeSymbol type)
    {
        if (type.IsRecord)
            return null;
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(_cancellationToken) is not TypeDeclarationSyntax declaration)
                continue;
            ParameterListSyntax? parameters = declaration.ParameterList;
            if (parameters is null || parameters.Parameters.Count == 0)
                continue;
            var names = new HashSet<string>(parameters.Parameters.Select(p => p.Identifier.ValueText));
            SemanticModel model = _compilation.GetSemanticModel(declaration.SyntaxTree);
            foreach (MemberDeclarationSyntax member in declaration.Members)
            {
                foreach (IdentifierNameSyntax identifier in member.DescendantNodes().OfType<IdentifierNameSyntax>())
                {
                    if (!names.Contains(identifier.Identifier.ValueText) || IsInInitializer(identifier, member))
                        continue;
                    if (model.GetSymbolInfo(identifier, _cancellationToken).Symbol is IParameterSymbol parameter
                        && parameter.ContainingSymbol is IMethodSymbol { MethodKind: MethodKind.Constructor } ctor
                        && SymbolEqualityComparer.Default.Equals(ctor.ContainingType, type))
                        return parameter.Name;
                }
            }
        }
        return null;
    }

    // A field or property initializer reads the parameter once, in the constructor; it captures nothing.
    private static bool IsInInitializer(SyntaxNode node, MemberDeclarationSyntax member)
        => member switch
        {
            FieldDeclarationSyntax => true,
            PropertyDeclarationSyntax property => property.Initializer is { } init && init.Span.Contains(node.Span),
            _ => false,
        };
}
