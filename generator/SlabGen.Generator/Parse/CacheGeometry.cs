using SlabGen.Policy;

namespace SlabGen.Generator.Parse;

/// <summary>
/// The cache a struct's layout calls for, by the runtime's own rules (<see cref="SlabGen.Policy"/>): its alignment
/// (<c>calculate_alignment</c>), its size rounded up to that alignment and into its kmalloc size class
/// (<c>kmalloc_size_roundup</c>), and the slot the runtime makes of that class (<c>calculate_sizes</c>). Only the order
/// in which the rules apply to a struct is the generator's.
/// </summary>
/// <param name="Align">The object alignment the cache is created with.</param>
/// <param name="SizeClass">The size class, the cache's object size; 0 when the rounded size is above every class.</param>
/// <param name="Slot">Bytes per slot, the free pointer of a ctor cache included; the rounded size when there is no class.</param>
internal readonly record struct CacheGeometry(int Align, int SizeClass, long Slot)
{
    /// <summary>True when a slab cache can hold the slot (else SLAB012).</summary>
    public bool Fits => SizeClass != 0 && Slot <= SlabLimits.MaxObjectSize;

    /// <summary>
    /// The geometry of a <paramref name="layout"/> struct with <paramref name="requestedAlign"/> (0 = natural, else a
    /// valid power of two), <c>SLAB_HWCACHE_ALIGN</c> and a ctor or not. The size class is always a multiple of the
    /// alignment (so a merged cache's slots are always aligned enough): a power-of-two class is at least the rounded
    /// size, so at least the alignment, itself a power of two; the 96 and 192 classes take only rounded sizes in
    /// (64, 96] and (128, 192], where no multiple of 64 or of 128 lies, so the alignment is at most 32 or 64.
    /// </summary>
    public static CacheGeometry Of(TypeLayout layout, int requestedAlign, bool hwCacheAlign, bool hasCtor)
    {
        int align = ObjectSlot.Alignment(layout.Align > requestedAlign ? layout.Align : requestedAlign, hwCacheAlign);
        long rounded = ((long)layout.Size + align - 1) / align * align;
        int sizeClass = rounded > SlabLimits.MaxObjectSize ? 0 : SizeClasses.ClassOf((int)rounded);
        long slot = sizeClass == 0 ? rounded : ObjectSlot.Slot(sizeClass, layout.Size, align, hasCtor).Size;
        return new CacheGeometry(align, sizeClass, slot);
    }
}
