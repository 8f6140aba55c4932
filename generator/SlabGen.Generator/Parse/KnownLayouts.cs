using Microsoft.CodeAnalysis;

namespace SlabGen.Generator.Parse;

/// <summary>
/// Layouts of types whose fields the compiler cannot see or that the runtime lays out specially: primitives, and BCL
/// structs that reference assemblies reduce to one <c>_dummyPrimitive</c> field. Measured on .NET 10 x64 with
/// <c>Unsafe.SizeOf</c> (the size oracle tests compare them again).
/// </summary>
internal static class KnownLayouts
{
    /// <summary>The layout of a primitive, pointer or well-known BCL struct, or null if the type is none of those.</summary>
    public static TypeLayout? Find(ITypeSymbol type)
    {
        switch (type.TypeKind)
        {
            case TypeKind.Pointer:
            case TypeKind.FunctionPointer:
                return TypeLayout.Pointer;
        }
        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean:
            case SpecialType.System_Byte:
            case SpecialType.System_SByte:
                return new TypeLayout(1, 1);
            case SpecialType.System_Char:
            case SpecialType.System_Int16:
            case SpecialType.System_UInt16:
                return new TypeLayout(2, 2);
            case SpecialType.System_Int32:
            case SpecialType.System_UInt32:
            case SpecialType.System_Single:
                return new TypeLayout(4, 4);
            case SpecialType.System_Int64:
            case SpecialType.System_UInt64:
            case SpecialType.System_Double:
            case SpecialType.System_IntPtr:
            case SpecialType.System_UIntPtr:
            case SpecialType.System_DateTime:
                return new TypeLayout(8, 8);
            case SpecialType.System_Decimal:
                return new TypeLayout(16, 8);
        }
        if (type is not INamedTypeSymbol named || named.ContainingNamespace is null)
            return null;
        switch (MetadataName(named))
        {
            case "System.Half":
                return new TypeLayout(2, 2);
            case "System.DateOnly":
            case "System.Index":
            case "System.Text.Rune":
                return new TypeLayout(4, 4);
            case "System.TimeSpan":
            case "System.TimeOnly":
            case "System.Runtime.InteropServices.GCHandle":
            case "System.Runtime.Intrinsics.Vector64`1":
                return new TypeLayout(8, 8);
            case "System.Range":
            case "System.Numerics.Vector2":
                return new TypeLayout(8, 4);
            case "System.Numerics.Vector3":
                return new TypeLayout(12, 4);
            case "System.Guid":
            case "System.Numerics.Vector4":
            case "System.Numerics.Quaternion":
            case "System.Numerics.Plane":
                return new TypeLayout(16, 4);
            case "System.DateTimeOffset":
            case "System.Numerics.Complex":
                return new TypeLayout(16, 8);
            case "System.Int128":
            case "System.UInt128":
            case "System.Runtime.Intrinsics.Vector128`1":
                return new TypeLayout(16, 16);
            case "System.Numerics.Matrix3x2":
                return new TypeLayout(24, 4);
            case "System.Runtime.Intrinsics.Vector256`1":
                return new TypeLayout(32, 32);
            case "System.Numerics.Matrix4x4":
                return new TypeLayout(64, 4);
            case "System.Runtime.Intrinsics.Vector512`1":
                return new TypeLayout(64, 64);
        }
        return null;
    }

    /// <summary>Why SlabGen refuses to guess the layout of a well-known type, or null.</summary>
    public static string? Unsupported(INamedTypeSymbol type)
    {
        string name = MetadataName(type);
        if (name == "System.Numerics.Vector`1")
            return "the size of Vector<T> depends on the processor";
        if (name.StartsWith("System.ValueTuple", System.StringComparison.Ordinal))
            return "value tuples use LayoutKind.Auto, so the runtime reorders their fields";
        return null;
    }

    /// <summary><c>Namespace.Name`arity</c>, without containing types (none of the table's types is nested).</summary>
    public static string MetadataName(INamedTypeSymbol type)
        => type.ContainingNamespace.IsGlobalNamespace
            ? type.MetadataName
            : type.ContainingNamespace.ToDisplayString() + "." + type.MetadataName;
}
