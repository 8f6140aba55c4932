namespace SlabGen.Generator.Parse;

/// <summary>The unmanaged size and alignment of a type on a 64-bit process.</summary>
internal readonly record struct TypeLayout(int Size, int Align)
{
    public static readonly TypeLayout Pointer = new(8, 8);

    public static int AlignUp(int value, int align) => (value + align - 1) / align * align;
}
