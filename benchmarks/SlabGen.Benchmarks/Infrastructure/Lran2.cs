using System.Runtime.CompilerServices;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// Wolfram Gloger's small portable generator (<c>lran2</c>, from "Numerical Recipes"), as larson.cpp uses it, so the
/// Larson scenario draws the same kind of sequence from the same seed as mimalloc-bench's larson.
/// </summary>
public unsafe struct Lran2
{
    private const long Max = 714025, Ia = 1366, Ic = 150889;

    private long _x, _y;
    private fixed long _v[97];

    /// <summary>lran2_init.</summary>
    public Lran2(long seed)
    {
        long x = (Ic - seed) % Max;
        if (x < 0)
            x = -x;
        for (int j = 0; j < 97; j++)
        {
            x = (Ia * x + Ic) % Max;
            _v[j] = x;
        }
        _x = (Ia * x + Ic) % Max;
        _y = _x;
    }

    /// <summary>
    /// lran2: the next value, in 0..714,024. Inlined, as the C macro is: under Native AOT a call here cost the
    /// allocators whose fast path fills the caller's inlining budget more than the others.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Next()
    {
        int j = (int)(_y % 97);
        _y = _v[j];
        _x = (Ia * _x + Ic) % Max;
        _v[j] = _x;
        return _y;
    }
}
