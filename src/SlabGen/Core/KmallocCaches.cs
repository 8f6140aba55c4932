using System;
using SlabGen.Core;
using SlabGen.Policy;

namespace SlabGen.Core;

/// <summary>
/// The kmalloc size classes (<c>kmalloc_caches[]</c>, <c>kmalloc_info[]</c>): kmalloc-8 through kmalloc-8k, powers
/// of two plus 96 and 192, made first at boot (<c>create_kmalloc_caches</c>).
/// </summary>
internal static class KmallocCaches
{
    public const int ShiftLow = SizeClasses.ShiftLow;
    public const int ShiftHigh = SizeClasses.ShiftHigh;
    public const int MaxCacheSize = SizeClasses.MaxCacheSize;

    /// <summary>By index as <c>kmalloc_index</c> numbers them: [1] = 96, [2] = 192, [3..13] = 8 .. 8k.</summary>
    private static readonly SlabCache?[] s_caches = new SlabCache?[ShiftHigh + 1];

    /// <summary>Index of the kmalloc cache for <paramref name="size"/> bytes (1..8k), <c>kmalloc_index</c>.</summary>
    /// <remarks>Both candidates are computed and one is selected, so random sizes cost no mispredicted branch.</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int Index(int size)
    {
        uint last = (uint)size - 1;
        int small = SizeClasses.SizeIndex[(int)(last >> 3) & 31];                 // size_index[(size - 1) / 8]
        int large = 32 - System.Numerics.BitOperations.LeadingZeroCount(last);     // fls(size - 1)
        int isSmall = (int)(last - 192) >> 31;                                     // -1 when size <= 192, else 0 (sizes 1..8k)
        return large ^ ((small ^ large) & isSmall);
    }

    /// <summary>Object size of class <paramref name="index"/>.</summary>
    public static int SizeOfIndex(int index) => SizeClasses.SizeOfIndex(index);

    /// <summary>The name the kernel gives class <paramref name="index"/>.</summary>
    public static string NameOfIndex(int index) => SizeClasses.NameOfIndex(index);

    /// <summary>The cache of class <paramref name="index"/>.</summary>
    public static SlabCache Cache(int index)
    {
        CacheChain.EnsureUp();
        return s_caches[index]!;
    }

    /// <summary><c>create_kmalloc_caches</c>: every class in size order, the way <c>kmalloc_info[]</c> lists them for display. Caller holds the chain mutex.</summary>
    public static void CreateAll()
    {
        for (int index = ShiftLow; index <= ShiftHigh; index++)
        {
            Create(index);
            if (index == 6)
                Create(1); // kmalloc-96 after kmalloc-64
            if (index == 7)
                Create(2); // kmalloc-192 after kmalloc-128
        }
    }

    private static void Create(int index)
    {
        int size = SizeOfIndex(index);
        s_caches[index] = SlabCache.CreateLocked(NameOfIndex(index), new SlabCacheOptions
        {
            Size = size,
            Flags = SlabFlags.Panic,
            Permanent = true, // kmalloc caches live as long as the process
            Kmalloc = true,
        });
    }
}
