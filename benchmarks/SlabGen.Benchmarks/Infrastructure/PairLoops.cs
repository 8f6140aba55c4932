using System.Runtime.InteropServices;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>The alloc+free loops a worker thread runs in the multi-threaded scenarios, one per allocator.</summary>
public static unsafe class PairLoops
{
    private const int Size = 64;

    public static void Native(int pairs)
    {
        for (int i = 0; i < pairs; i++)
        {
            long* p = (long*)NativeMemory.Alloc(Size);
            *p = i;
            NativeMemory.Free(p);
        }
    }

    public static void Slab(SlabCache cache, int pairs)
    {
        for (int i = 0; i < pairs; i++)
        {
            long* p = (long*)cache.Alloc();
            *p = i;
            cache.Free(p);
        }
    }
}
