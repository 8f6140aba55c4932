namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// The loops of the scenarios, generic over the allocator (<see cref="IMalloc"/>), for the native peers. Each is the
/// same loop, statement for statement, as the scenario's NativeMemory baseline, so only the allocator differs.
/// </summary>
public static unsafe class NativeLoops
{
    /// <summary>Hot pair: allocate, stamp, free at once, <paramref name="ops"/> times.</summary>
    public static void Pairs<T>(nuint size, int ops) where T : struct, IMalloc
    {
        T.Require();
        for (int i = 0; i < ops; i++)
        {
            long* p = (long*)T.Malloc(size);
            *p = i;
            T.Free(p);
        }
    }

    /// <summary>Batches: <paramref name="rounds"/> times, allocate <c>ptrs.Length</c> blocks and stamp them, then free them.</summary>
    public static void Rounds<T>(nint[] ptrs, int rounds, nuint size) where T : struct, IMalloc
    {
        T.Require();
        for (int round = rounds; round > 0; round--)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                long* p = (long*)T.Malloc(size);
                *p = i;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                T.Free((void*)ptrs[i]);
        }
    }

    /// <summary>Random sizes freed at once: each block is written at both ends.</summary>
    public static void SizedPairs<T>(int[] sizes) where T : struct, IMalloc
    {
        T.Require();
        for (int i = 0; i < sizes.Length; i++)
        {
            int size = sizes[i];
            byte* p = (byte*)T.Malloc((nuint)size);
            p[0] = 1;
            p[size - 1] = 2;
            T.Free(p);
        }
    }

    /// <summary>Random sizes, <c>ptrs.Length</c> held at a time.</summary>
    public static void SizedRounds<T>(int[] sizes, nint[] ptrs) where T : struct, IMalloc
    {
        T.Require();
        for (int start = 0; start < sizes.Length; start += ptrs.Length)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                int size = sizes[start + i];
                byte* p = (byte*)T.Malloc((nuint)size);
                p[0] = 1;
                p[size - 1] = 2;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                T.Free((void*)ptrs[i]);
        }
    }

    /// <summary><see cref="SizedPairs{T}"/> with a sized free (<c>mi_free_size</c>, <c>sdallocx</c>, <c>tc_free_sized</c>).</summary>
    public static void SizedFreePairs<T>(int[] sizes) where T : struct, IMalloc
    {
        T.Require();
        for (int i = 0; i < sizes.Length; i++)
        {
            int size = sizes[i];
            byte* p = (byte*)T.Malloc((nuint)size);
            p[0] = 1;
            p[size - 1] = 2;
            T.FreeSized(p, (nuint)size);
        }
    }

    /// <summary><see cref="SizedRounds{T}"/> with a sized free.</summary>
    public static void SizedFreeRounds<T>(int[] sizes, nint[] ptrs) where T : struct, IMalloc
    {
        T.Require();
        for (int start = 0; start < sizes.Length; start += ptrs.Length)
        {
            for (int i = 0; i < ptrs.Length; i++)
            {
                int size = sizes[start + i];
                byte* p = (byte*)T.Malloc((nuint)size);
                p[0] = 1;
                p[size - 1] = 2;
                ptrs[i] = (nint)p;
            }
            for (int i = 0; i < ptrs.Length; i++)
                T.FreeSized((void*)ptrs[i], (nuint)sizes[start + i]);
        }
    }
}
