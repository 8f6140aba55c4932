using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SlabGen.Core;
using SlabGen.PageAlloc;

namespace SlabGen;

/// <summary>
/// kmalloc: memory of any size. Sizes up to 8 KiB are rounded into the kmalloc-8 ... kmalloc-8k caches
/// (<c>kmalloc_slab</c>); larger ones, up to <see cref="MaxSize"/>, are whole blocks of 2^order pages from the page
/// source (<c>kmalloc_large</c>). <see cref="Free(void*)"/> and <see cref="Ksize"/> tell the two apart by the arena a
/// pointer lives in.
/// </summary>
public static unsafe class Kmalloc
{
    /// <summary><c>KMALLOC_MAX_SIZE</c>: the largest request, 4 MiB (one block of order 10).</summary>
    public const int MaxSize = 1 << (PageSource.PageShift + PageSource.MaxOrder);

    /// <summary><c>KMALLOC_MAX_CACHE_SIZE</c>: the largest request served from a kmalloc cache.</summary>
    public const int MaxCacheSize = KmallocCaches.MaxCacheSize;

    /// <summary><c>ZERO_SIZE_PTR</c>: what <c>Alloc(0)</c> returns. Not null, never a real object; <see cref="Free(void*)"/> accepts it.</summary>
    public static readonly void* ZeroSizePtr = (void*)16;

    /// <summary>Fast paths of the kmalloc caches, by <c>kmalloc_index</c> (native, so the JIT sees a constant address and no bounds).</summary>
    private static readonly FastPath* s_fast;

    /// <summary>The kmalloc caches, by <c>kmalloc_index</c>.</summary>
    private static readonly SlabCache[] s_caches;

    /// <summary>Cache slot → kmalloc index (0 for caches that are not kmalloc caches).</summary>
    private static readonly byte* s_indexOfSlot;

    /// <summary>
    /// Owner table value → that kmalloc cache's fast path: one load from owner to fast path. Indexed from
    /// <see cref="PageSource.OwnerLarge"/> (-1) up, so any owner value is in range; every entry that is not a kmalloc
    /// cache points at <see cref="s_never"/>, so kfree needs neither a range check nor a null check.
    /// </summary>
    private static readonly FastPath** s_fastOfSlot;

    /// <summary>The <see cref="FastPath.Never"/> every non-kmalloc entry of <see cref="s_fastOfSlot"/> points at.</summary>
    private static readonly FastPath* s_never;

    /// <summary>One page-source client per order for <c>kmalloc_large</c>.</summary>
    private static readonly PageSource.PageClient[] s_large;

    /// <summary>
    /// The page source's reserve and owner table, copied: kfree then reads statics of this class only, so under Native
    /// AOT it pays one class-initialization check, not a second for <see cref="PageSource"/>'s static constructor.
    /// </summary>
    private static readonly byte* s_reserveBase;
    private static readonly nuint s_reserveBytes;
    private static readonly int* s_pageOwner;

    static Kmalloc()
    {
        CacheChain.EnsureUp();
        s_fast = (FastPath*)NativeMemory.AllocZeroed(KmallocCaches.ShiftHigh + 1, (nuint)sizeof(FastPath));
        s_caches = new SlabCache[KmallocCaches.ShiftHigh + 1];
        s_indexOfSlot = (byte*)NativeMemory.AllocZeroed(CacheChain.MaxCaches);
        s_never = (FastPath*)NativeMemory.Alloc((nuint)sizeof(FastPath));
        *s_never = FastPath.Never;
        s_fastOfSlot = (FastPath**)NativeMemory.Alloc(CacheChain.MaxCaches + 1, (nuint)sizeof(FastPath*)) + 1;
        new Span<nint>(s_fastOfSlot + PageSource.OwnerLarge, CacheChain.MaxCaches + 1).Fill((nint)s_never);
        for (int index = 1; index <= KmallocCaches.ShiftHigh; index++)
        {
            SlabCache cache = KmallocCaches.Cache(index);
            s_caches[index] = cache;
            s_fast[index] = cache.Fast;
            s_indexOfSlot[cache.Slot] = (byte)index;
            s_fastOfSlot[cache.Slot] = s_fast + index;
        }
        s_reserveBase = PageSource.Base;
        s_reserveBytes = PageSource.ReserveBytes;
        s_pageOwner = PageSource.PageOwner;
        s_large = new PageSource.PageClient[PageSource.MaxOrder + 1];
        for (int order = 0; order <= PageSource.MaxOrder; order++)
            s_large[order] = new PageSource.PageClient(PageSource.OwnerLarge, order);
    }

    /// <summary>
    /// Kmalloc bound to the calling thread: a handle that skips the thread-local lookup <see cref="Alloc"/> and
    /// <see cref="Free(void*)"/> make on every call. Make one per loop or per request, on the thread that uses it.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The thread's magazine table could not be mapped.</exception>
    public static KmallocLocal Local() => new(ThreadMagazines.Table());

    /// <summary>The kmalloc cache that serves <paramref name="size"/> bytes (1 to 8192): kmalloc-8 ... kmalloc-8k.</summary>
    public static SlabCache CacheFor(int size)
    {
        if (size < 1 || size > MaxCacheSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"kmalloc: {size} bytes is outside the kmalloc caches' 1..{MaxCacheSize}.");
        return KmallocCaches.Cache(KmallocCaches.Index(size));
    }

    /// <summary>Allocates <paramref name="size"/> bytes (<c>kmalloc</c>); <c>Alloc(0)</c> returns <see cref="ZeroSizePtr"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is above <see cref="MaxSize"/>.</exception>
    /// <exception cref="OutOfMemoryException">The page source is exhausted.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void* Alloc(nuint size) => AllocFrom(ThreadMagazines.t_table, size); // the read first, so that a Free right after can share it

    /// <summary><see cref="Alloc(nuint)"/> with this thread's magazine table already read (<see cref="KmallocLocal"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void* AllocFrom(nint* table, nuint size)
    {
        if (size - 1 < MaxCacheSize)
        {
            int index = KmallocCaches.Index((int)size);
            void* obj = s_fast[index].TryAlloc(table);
            return obj != null ? obj : s_caches[index].AllocSlow(size); // the size, for a debug cache's kmalloc red zone
        }
        return AllocSlow(size, throwOnFailure: true);
    }

    /// <summary>Like <see cref="Alloc"/>, but returns null instead of throwing when the request cannot be met.</summary>
    public static void* TryAlloc(nuint size)
    {
        if (size - 1 < MaxCacheSize)
        {
            try
            {
                return Alloc(size);
            }
            catch (OutOfMemoryException)
            {
                return null;
            }
        }
        return AllocSlow(size, throwOnFailure: false);
    }

    /// <summary>
    /// Allocates <paramref name="size"/> zeroed bytes (<c>kzalloc</c>): the whole object, even when it is reused; on a
    /// debug kmalloc cache that keeps request sizes only the <paramref name="size"/> bytes asked for, as the kernel's
    /// kmalloc red zone needs the rest.
    /// </summary>
    public static void* Zalloc(nuint size) => Zero(Alloc(size), size);

    /// <summary>Like <see cref="Zalloc"/>, but returns null instead of throwing.</summary>
    public static void* TryZalloc(nuint size) => Zero(TryAlloc(size), size);

    /// <summary>Allocates an array of <paramref name="count"/> elements of <paramref name="size"/> bytes (<c>kmalloc_array</c>); an overflowing product throws.</summary>
    public static void* AllocArray(nuint count, nuint size) => Alloc(ArrayBytes(count, size, throwOnFailure: true));

    /// <summary>Like <see cref="AllocArray"/>, but returns null on overflow or failure.</summary>
    public static void* TryAllocArray(nuint count, nuint size)
    {
        nuint bytes = ArrayBytes(count, size, throwOnFailure: false);
        return bytes == nuint.MaxValue ? null : TryAlloc(bytes);
    }

    /// <summary>A zeroed array (<c>kcalloc</c>); an overflowing product throws.</summary>
    public static void* Calloc(nuint count, nuint size)
    {
        nuint bytes = ArrayBytes(count, size, throwOnFailure: true);
        return Zero(Alloc(bytes), bytes);
    }

    /// <summary>
    /// Resizes (<c>krealloc</c>): keeps <paramref name="p"/> when it already holds <paramref name="newSize"/> bytes,
    /// else moves the contents to a new object and frees the old one. Null acts as <see cref="Alloc"/>; a new size of
    /// 0 frees <paramref name="p"/> and returns <see cref="ZeroSizePtr"/>. On failure <paramref name="p"/> is untouched.
    /// On a debug kmalloc cache the bytes past the new size stay red zone (<see cref="SlabFlags.RedZone"/>).
    /// </summary>
    public static void* Realloc(void* p, nuint newSize) => ReallocCore(p, newSize, throwOnFailure: true, zero: false);

    /// <summary>Like <see cref="Realloc"/>, but returns null (leaving <paramref name="p"/> valid) instead of throwing.</summary>
    public static void* TryRealloc(void* p, nuint newSize) => ReallocCore(p, newSize, throwOnFailure: false, zero: false);

    /// <summary>
    /// <see cref="Realloc"/> with <c>__GFP_ZERO</c> (<c>krealloc(p, size, GFP_KERNEL | __GFP_ZERO)</c>): a new object is
    /// zeroed before the old contents are copied in, and an object kept in place has its bytes past the new size
    /// zeroed, or, on a debug kmalloc cache that knows the old request, the bytes between the old and the new size.
    /// As in the kernel, a buffer gets all its grown bytes zeroed only if it came from <see cref="Zalloc"/> and every
    /// resize of it was a <c>Zrealloc</c>.
    /// </summary>
    public static void* Zrealloc(void* p, nuint newSize) => ReallocCore(p, newSize, throwOnFailure: true, zero: true);

    /// <summary>Frees memory from this allocator (<c>kfree</c>). Null and <see cref="ZeroSizePtr"/> do nothing.</summary>
    /// <exception cref="ArgumentException"><paramref name="p"/> did not come from <see cref="Kmalloc"/>.</exception>
    /// <exception cref="DoubleFreeException"><paramref name="p"/> is already free; nothing changed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p) => FreeFrom(ThreadMagazines.t_table, p);

    /// <summary>
    /// Frees <paramref name="p"/>, which the caller allocated with <paramref name="size"/> bytes (a sized free: C++'s
    /// sized delete, mimalloc's <c>mi_free_size</c>, jemalloc's <c>sdallocx</c>). The size names the kmalloc cache
    /// straight away, so the free reads one owner-table entry to check the pointer instead of following it to its
    /// cache. A size that is not the pointer's own class is still served correctly (say after <see cref="Realloc"/>
    /// kept a larger object for a smaller size) as long as it fits in the object.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="p"/> did not come from <see cref="Kmalloc"/>, or
    /// <paramref name="size"/> is larger than the object (<see cref="Ksize"/>); nothing was freed.</exception>
    /// <exception cref="DoubleFreeException"><paramref name="p"/> is already free; nothing changed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Free(void* p, nuint size) => FreeFrom(ThreadMagazines.t_table, p, size);

    /// <summary><see cref="Free(void*, nuint)"/> with this thread's magazine table already read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FreeFrom(nint* table, void* p, nuint size)
    {
        if (size - 1 < MaxCacheSize)
        {
            int index = KmallocCaches.Index((int)size);
            FastPath* fast = s_fast + index;
            if (fast->IsObject(p))
            {
                if (!fast->TryFree(table, p))
                    s_caches[index].FreeSlow(p);
                return;
            }
        }
        FreeSizedSlow(p, size);
    }

    /// <summary><see cref="Free(void*)"/> with this thread's magazine table already read (<see cref="KmallocLocal"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void FreeFrom(nint* table, void* p)
    {
        nuint off = (nuint)p - (nuint)s_reserveBase;
        if (off < s_reserveBytes)
        {
            int owner = s_pageOwner[off >> PageSource.PageShift]; // -1 (large) .. MaxCaches - 1
            FastPath* fast = s_fastOfSlot[owner];
            if (fast->IsObjectInOwnArena(off))
            {
                if (!fast->TryFree(table, owner, p))
                    s_caches[s_indexOfSlot[owner]].FreeSlow(p);
                return;
            }
        }
        FreeSlow(p);
    }

    /// <summary>
    /// The usable size of <paramref name="p"/> (<c>ksize</c>): its cache's object size, or the block size of a large
    /// allocation; 0 for null and <see cref="ZeroSizePtr"/>. On a debug kmalloc cache the whole object becomes usable,
    /// as <c>skip_orig_size_check</c> makes it: its kmalloc red zone is given up.
    /// </summary>
    public static nuint Ksize(void* p) => UsableSize(p, freeing: false);

    private static nuint UsableSize(void* p, bool freeing)
    {
        if (p == null || p == ZeroSizePtr)
            return 0;
        int arena = PageSource.ArenaOf(p);
        int owner = PageSource.PageOwnerOf(p);
        if (owner == PageSource.OwnerLarge || (owner == PageSource.OwnerNone && arena >= 0 && PageSource.ArenaOwner[arena] == PageSource.OwnerLarge))
            return (nuint)PageSource.PageSize << LargeBlock(p, arena, freeing)->Order;
        if (s_fastOfSlot[owner]->IsObject(p))
            return (nuint)s_caches[s_indexOfSlot[owner]].Size;
        if (DebugCacheOf(p, owner) is SlabCache debug)
            return debug.DebugKsize(p);
        throw NotOurs(p, arena, owner);
    }

    /// <summary>
    /// The debug kmalloc cache <paramref name="p"/> is an object of, or null: a debug cache's fast path refuses every
    /// pointer, so the slow paths look the cache up by its page's owner.
    /// </summary>
    private static SlabCache? DebugCacheOf(void* p, int owner)
        => owner > 0 && CacheChain.BySlot(owner) is SlabCache { IsDebug: true, IsKmalloc: true } cache && cache.IsDebugObject(p) ? cache : null;

    /// <summary>
    /// Throws unless <paramref name="p"/> is allocated now (for <see cref="Realloc"/>, which must refuse a freed
    /// pointer before it moves or returns anything).
    /// </summary>
    private static void CheckAllocated(void* p)
    {
        int owner = PageSource.PageOwnerOf(p);
        if (owner == PageSource.OwnerLarge)
            return; // a large block: LargeBlock checked it is allocated
        FastPath* fast = s_fastOfSlot[owner];
        if (fast->Fp.LooksFree(p, *fast->Fp.Word(p)))
            s_caches[s_indexOfSlot[owner]].CheckDoubleFree(p); // throws unless chance
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void* AllocSlow(nuint size, bool throwOnFailure)
    {
        if (size == 0)
            return ZeroSizePtr;
        if (size > MaxSize)
        {
            if (!throwOnFailure)
                return null;
            throw new ArgumentOutOfRangeException(nameof(size), size,
                $"kmalloc: cannot allocate {size} bytes: the largest request is {MaxSize} bytes (KMALLOC_MAX_SIZE).");
        }
        return KmallocLarge(size, throwOnFailure);
    }

    /// <summary>A whole block of 2^order pages for a request above 8 KiB (<c>kmalloc_large</c>); its descriptor records the order.</summary>
    private static void* KmallocLarge(nuint size, bool throwOnFailure)
    {
        int order = GetOrder(size);
        Slab* block = PageSource.AllocPages(s_large[order]);
        if (block == null)
        {
            if (!throwOnFailure)
                return null;
            throw new OutOfMemoryException($"kmalloc: cannot allocate {size} bytes: the page source has no room for a block of order {order}.");
        }
        block->InUse = 1;
        block->Order = (byte)order;
        PageSource.Publish(s_large[order], block);
        return block->Base;
    }

    /// <summary>Pages needed for <paramref name="size"/> bytes, as a power-of-two order (<c>get_order</c>).</summary>
    internal static int GetOrder(nuint size)
    {
        int order = 0;
        while (((nuint)PageSource.PageSize << order) < size)
            order++;
        return order;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeSlow(void* p)
    {
        if (p == null || p == ZeroSizePtr)
            return;
        int arena = PageSource.ArenaOf(p);
        int owner = PageSource.PageOwnerOf(p);
        bool largeArena = arena >= 0 && PageSource.ArenaOwner[arena] == PageSource.OwnerLarge;
        if (owner != PageSource.OwnerLarge && !(owner == PageSource.OwnerNone && largeArena))
        {
            if (DebugCacheOf(p, owner) is SlabCache debug)
            {
                debug.FreeSlow(p); // the checked path of a debug kmalloc cache
                return;
            }
            throw NotOurs(p, arena, owner);
        }
        Slab* block = LargeBlock(p, arena, freeing: true);
        int order = block->Order;
        block->InUse = 0;
        PageSource.FreePages(s_large[order], block);
    }

    /// <summary>
    /// A sized free whose size does not name the pointer's cache: a large block, a size smaller than the object's
    /// class (the object may have been kept by a shrinking <see cref="Realloc"/>), or a mistake, which throws before
    /// anything is freed.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeSizedSlow(void* p, nuint size)
    {
        if (p == null || p == ZeroSizePtr)
            return;
        nuint usable = UsableSize(p, freeing: true);
        if (size > usable)
        {
            int owner = PageSource.PageOwnerOf(p);
            string what = owner == PageSource.OwnerLarge ? "a large block" : $"an object of '{s_caches[s_indexOfSlot[owner]].Name}'";
            throw new ArgumentException(
                $"kmalloc: Free(0x{(nuint)p:x}, {size}): the pointer is {what} of {usable} bytes, smaller than the size given; it was allocated with another size. Nothing was freed.",
                nameof(size));
        }
        Free(p);
    }

    /// <summary>
    /// The descriptor of the large block starting at <paramref name="p"/>, or an exception if it is not one that is
    /// allocated: <see cref="DoubleFreeException"/> when <paramref name="freeing"/> (a free or a realloc), else an
    /// <see cref="ArgumentException"/>.
    /// </summary>
    private static Slab* LargeBlock(void* p, int arena, bool freeing)
    {
        Slab* block = PageSource.VirtToSlab(p, PageSource.OrderOfArena(arena));
        if (block->Base != p)
            throw new ArgumentException($"kmalloc: 0x{(nuint)p:x} points inside a large block, not at its start.", nameof(p));
        if (block->InUse != 1 || PageSource.PageOwnerOf(p) != PageSource.OwnerLarge)
        {
            if (freeing)
                throw new DoubleFreeException("kmalloc-large", (nuint)p,
                    $"kmalloc: double free of 0x{(nuint)p:x}: it is a large block that is not allocated now; nothing was changed.");
            throw new ArgumentException($"kmalloc: 0x{(nuint)p:x} is a large block that is not allocated now (used after free?).", nameof(p));
        }
        return block;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Exception NotOurs(void* p, int arena, int owner)
    {
        string why = arena < 0 ? "it was never handed out by SlabGen"
            : owner == PageSource.OwnerNone
                ? PageSource.ArenaOwner[arena] is var a && a > 0 && s_indexOfSlot[a] != 0
                    ? $"it lies in a block '{CacheChain.BySlot(a)?.Name}' does not hold as a slab now: its slab was given back after its objects were freed (a double free, or a pointer kept after free), or it was never handed out"
                    : "it points into memory nobody holds (already freed?)"
            : s_indexOfSlot[owner] == 0 ? $"it belongs to slab cache '{CacheChain.BySlot(owner)?.Name}'; free it with that cache"
            : $"it is not the start of an object of '{CacheChain.BySlot(owner)?.Name}'";
        return new ArgumentException($"kmalloc: 0x{(nuint)p:x} did not come from Kmalloc: {why}.", "p");
    }

    /// <summary>
    /// <c>__do_krealloc</c>: the old object is refused if it is not allocated now; kept when it holds the new size
    /// (zeroed and red-zoned as <see cref="Zrealloc"/> and <see cref="Realloc"/> say), else its contents, up to the size
    /// its caller asked for when a debug cache knows it, move to a new object.
    /// </summary>
    private static void* ReallocCore(void* p, nuint newSize, bool throwOnFailure, bool zero)
    {
        if (p == null || p == ZeroSizePtr)
            return New(newSize, throwOnFailure, zero);
        SlabCache? debug = DebugCacheOf(p, PageSource.PageOwnerOf(p));
        nuint ks;
        if (debug != null)
        {
            debug.DebugCheckAllocated(p);
            ks = (nuint)debug.ObjectSize;
        }
        else
        {
            ks = UsableSize(p, freeing: true);
            CheckAllocated(p);
        }
        if (newSize == 0)
        {
            Free(p);
            return ZeroSizePtr;
        }
        if (ks >= newSize)
        {
            if (debug != null)
                debug.DebugReallocInPlace(p, (int)newSize, zero);
            else if (zero)
                NativeMemory.Clear((byte*)p + newSize, ks - newSize);
            return p;
        }
        nuint copy = debug != null ? (nuint)debug.DebugRequestedSize(p) : ks;
        void* moved = New(newSize, throwOnFailure, zero);
        if (moved == null)
            return null;
        Buffer.MemoryCopy(p, moved, newSize, Math.Min(copy, newSize));
        Free(p);
        return moved;
    }

    private static void* New(nuint size, bool throwOnFailure, bool zero)
        => zero ? (throwOnFailure ? Zalloc(size) : TryZalloc(size)) : (throwOnFailure ? Alloc(size) : TryAlloc(size));

    private static nuint ArrayBytes(nuint count, nuint size, bool throwOnFailure)
    {
        ulong high = Math.BigMul(count, size, out ulong low);
        if (high == 0 && low <= nuint.MaxValue - 1)
            return (nuint)low;
        if (!throwOnFailure)
            return nuint.MaxValue;
        throw new OverflowException($"kmalloc_array: {count} elements of {size} bytes overflow the size type.");
    }

    /// <summary>
    /// Zeroes a new allocation of <paramref name="requested"/> bytes: its whole usable size, or on a debug kmalloc cache
    /// that keeps request sizes only the request (<c>slab_post_alloc_hook</c>'s <c>orig_size</c>).
    /// </summary>
    private static void* Zero(void* p, nuint requested)
    {
        if (p != null && p != ZeroSizePtr)
        {
            SlabCache? debug = DebugCacheOf(p, PageSource.PageOwnerOf(p));
            NativeMemory.Clear(p, debug == null ? Ksize(p) : debug.Layout.TracksOrigSize ? requested : (nuint)debug.ObjectSize);
        }
        return p;
    }
}
