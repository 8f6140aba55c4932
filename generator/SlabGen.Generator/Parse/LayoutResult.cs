using Microsoft.CodeAnalysis;

namespace SlabGen.Generator.Parse;

/// <summary>A computed layout, or why it could not be computed and along which path of fields.</summary>
internal readonly struct LayoutResult
{
    private LayoutResult(TypeLayout layout, string? reason, string path, string? typeName, IFieldSymbol? field)
    {
        Layout = layout;
        Reason = reason;
        Path = path;
        TypeName = typeName;
        Field = field;
    }

    public TypeLayout Layout { get; }

    /// <summary>Why the layout is unknown, or null when it is known.</summary>
    public string? Reason { get; }

    /// <summary>Dotted field path from the struct asked about to the type at fault; empty when it is that struct.</summary>
    public string Path { get; }

    /// <summary>The type at fault.</summary>
    public string? TypeName { get; }

    /// <summary>The field of the struct asked about where the path starts, if any.</summary>
    public IFieldSymbol? Field { get; }

    public bool IsKnown => Reason is null;

    /// <summary>The reason with its path, for a diagnostic message.</summary>
    public string Message => Path.Length == 0 ? Reason ?? "" : "field '" + Path + "' of type '" + TypeName + "': " + Reason;

    public static LayoutResult Known(TypeLayout layout) => new(layout, null, "", null, null);

    public static LayoutResult Unknown(string reason, ITypeSymbol type)
        => new(default, reason, "", type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat), null);

    /// <summary>This failure seen from the struct that holds <paramref name="field"/>.</summary>
    public LayoutResult Through(IFieldSymbol field)
    {
        string name = field.AssociatedSymbol?.Name ?? field.Name;
        string path = Path.Length == 0 ? name : name + "." + Path;
        string? typeName = Path.Length == 0 ? field.Type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat) : TypeName;
        return new LayoutResult(default, Reason, path, typeName, field);
    }
}
