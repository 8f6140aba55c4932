namespace SlabGen.Generator.Polyfills;

/// <summary>A small hash combiner; netstandard2.0 has no <c>System.HashCode</c>.</summary>
internal static class HashCode
{
    public static int Combine(int seed, int value)
    {
        unchecked
        {
            return (seed * -1521134295) + value;
        }
    }

    public static int Of<T>(T? value) => value is null ? 0 : value.GetHashCode();
}
