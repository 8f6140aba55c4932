namespace SlabGen.Policy;

/// <summary>
/// The kmalloc size classes (<c>kmalloc_info[]</c>, <c>kmalloc_index</c>, <c>size_index</c>): 8, 16, 32, 64, 96, 128,
/// 192, 256, 512, 1k ... 8k served by kmalloc caches, then powers of two up to 4 MiB, which a generated cache of a big
/// struct rounds to, as the kernel's kmalloc-16k ... kmalloc-4M would.
/// </summary>
internal static class SizeClasses
{
    /// <summary><c>KMALLOC_SHIFT_LOW</c>: the smallest class is 8 bytes.</summary>
    public const int ShiftLow = 3;

    /// <summary><c>KMALLOC_SHIFT_HIGH</c>: the largest kmalloc cache is 8 KiB (PAGE_SHIFT + 1).</summary>
    public const int ShiftHigh = 13;

    /// <summary><c>KMALLOC_MAX_CACHE_SIZE</c>: the largest request served from a kmalloc cache.</summary>
    public const int MaxCacheSize = 1 << ShiftHigh;

    /// <summary>
    /// <c>size_index[24]</c>: the class index for sizes up to 192, by <c>(size - 1) / 8</c>; padded to 32 entries so
    /// that a masked index needs no bounds branch (the padding is never selected).
    /// </summary>
    public static System.ReadOnlySpan<byte> SizeIndex => new byte[]
    {
        3, 4, 5, 5, 6, 6, 6, 6,   // 8, 16, 24..32, 40..64
        1, 1, 1, 1,               // 72..96
        7, 7, 7, 7,               // 104..128
        2, 2, 2, 2, 2, 2, 2, 2,   // 136..192
        0, 0, 0, 0, 0, 0, 0, 0,   // padding
    };

    /// <summary>Object size of kmalloc class <paramref name="index"/> (as <c>kmalloc_index</c> numbers them: [1] = 96, [2] = 192, [3..13] = 8 .. 8k).</summary>
    public static int SizeOfIndex(int index) => index switch
    {
        1 => 96,
        2 => 192,
        _ => 1 << index,
    };

    /// <summary>The name the kernel gives class <paramref name="index"/>: kmalloc-8 ... kmalloc-512, kmalloc-1k ... kmalloc-8k.</summary>
    public static string NameOfIndex(int index)
    {
        int size = SizeOfIndex(index);
        return size >= 1024 ? "kmalloc-" + (size / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture) + "k"
            : "kmalloc-" + size.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The size class of <paramref name="size"/> bytes (1 to <see cref="SlabLimits.MaxObjectSize"/>): a kmalloc class up
    /// to 8 KiB, then the next power of two; 0 above 4 MiB.
    /// </summary>
    public static int ClassOf(int size)
    {
        if (size < 1 || size > SlabLimits.MaxObjectSize)
            return 0;
        if (size <= 192)
            return SizeOfIndex(SizeIndex[(size - 1) >> 3]);
        int sizeClass = 256;
        while (sizeClass < size)
            sizeClass <<= 1;
        return sizeClass;
    }
}
