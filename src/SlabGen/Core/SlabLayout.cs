using System;
using System.Numerics;
using SlabGen.PageAlloc;
using SlabGen.Policy;

namespace SlabGen.Core;

/// <summary>
/// Where everything sits in one object slot and how many slots make a slab (<c>calculate_sizes</c> and
/// <c>calculate_order</c>). A slot is <c>[red_left_pad][object][free pointer if it cannot overlay the object]
/// [padding to align]</c>; the red zone and poison fields are kept at zero until debugging layouts arrive.
/// </summary>
internal readonly record struct SlabLayout(
    int ObjectSize, int Size, int Align, int Offset, int RedLeftPad, int Order, int ObjectsPerSlab)
{
    public const int MinAlign = SlabLimits.MinAlign;
    public const int CacheLineSize = SlabLimits.CacheLineSize;
    public const int MaxAlign = SlabLimits.MaxAlign;
    public const int SlabMaxOrder = 3;      // PAGE_ALLOC_COSTLY_ORDER: beyond it only when one object needs it
    public const int MaxObjsPerSlab = 32767; // objects:15
    public const int MaxObjectSize = SlabLimits.MaxObjectSize;

    /// <summary>Bytes of one slab.</summary>
    public int SlabBytes => PageSource.PageSize << Order;

    /// <summary>
    /// The layout for an object of <paramref name="objectSize"/> bytes, or an exception naming the cache and the
    /// problem. <paramref name="inUse"/> is how many of those bytes the object really uses (the kernel's
    /// <c>inuse</c>) when the size was rounded up to a size class; 0 means all of them.
    /// </summary>
    public static SlabLayout Calculate(string name, int objectSize, int align, SlabFlags flags, bool hasCtor, int cpus, int inUse = 0)
    {
        if (objectSize < 1 || objectSize > MaxObjectSize)
            throw new ArgumentOutOfRangeException(nameof(objectSize), objectSize,
                $"slab cache '{name}': object size {objectSize} is outside 1..{MaxObjectSize} bytes.");
        if (align < 0 || align > MaxAlign || (align != 0 && !BitOperations.IsPow2(align)))
            throw new ArgumentOutOfRangeException(nameof(align), align,
                $"slab cache '{name}': alignment {align} is not 0 or a power of two up to {MaxAlign}.");

        int a = ObjectSlot.Alignment(align, (flags & SlabFlags.HwCacheAlign) != 0);
        (long slot, int offset) = ObjectSlot.Slot(objectSize, inUse, a, hasCtor);
        if (slot > MaxObjectSize)
            throw new ArgumentOutOfRangeException(nameof(objectSize), objectSize,
                $"slab cache '{name}': object size {objectSize} with its metadata ({slot} bytes) exceeds {MaxObjectSize} bytes.");
        int size = (int)slot;

        int minObjects = 4 * (BitOperations.Log2((uint)Math.Max(cpus, 1)) + 2); // 4 * (fls(nr_cpus) + 1)
        int order = 0, num = 0;
        for (; order <= PageSource.MaxOrder; order++)
        {
            int slab = PageSource.PageSize << order;
            num = Math.Min(slab / size, MaxObjsPerSlab);
            if (num == 0)
                continue;
            int leftOver = slab - num * size;
            if ((leftOver * 8 <= slab && num >= minObjects) || order >= SlabMaxOrder || num == MaxObjsPerSlab)
                break;
        }
        return new SlabLayout(objectSize, size, a, offset, 0, order, num);
    }
}
