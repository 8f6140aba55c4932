using System.Numerics;
using System.Runtime.CompilerServices;

namespace SlabGen.Core;

/// <summary>
/// A cache's free pointer: the word at offset <c>s->offset</c> of every free object, stored encoded as SLUB's
/// <c>CONFIG_SLAB_FREELIST_HARDENED</c> stores it (<c>freelist_ptr_encode</c>: <c>ptr ^ s->random ^ swab(ptr_addr)</c>),
/// so that a use-after-free write or an overflow into a free object cannot aim the allocator at an address of the
/// writer's choice: a forged or damaged value decodes to a pointer outside the slab, which the consumer refuses.
/// SLUB's byte swap of the word's address becomes a rotation of the object's address by 32 bits: the same effect (the
/// address's varying low bits land in the high bits, so no two objects of a slab share a mask) in one instruction
/// instead of an add and a two-micro-op swap, on every allocation and free.
/// </summary>
/// <remarks>
/// The word also records that the object is free, in whatever layer it sits (a thread magazine, a depot, a per-CPU or
/// shared array, or its slab), which is what lets every free entry point catch a double free at the second free:
/// <list type="bullet">
/// <item>on a slab's freelist it holds the next free object of that slab, or <see cref="End"/> for the last one;</item>
/// <item>anywhere else it holds the object itself (<see cref="Key"/>): "free, not on a freelist";</item>
/// <item>an allocation clears it to 0, so a live object never shows the cache's secret.</item>
/// </list>
/// All three free states decode to an address inside the object's own slab, so one xor and one compare
/// (<see cref="LooksFree"/>) tell a free object from a live one; a live object's word is the user's data, which
/// matches only if it holds this very encoding of an address in its slab under this cache's 64-bit secret.
/// </remarks>
internal readonly unsafe struct FreePointer
{
    /// <summary><c>s->random</c>: a per-cache secret from the operating system's random source.</summary>
    private readonly ulong _random;

    /// <summary><c>s->offset</c>: where the word sits in the object slot.</summary>
    private readonly ulong _offset;

    /// <summary>Slab bytes − 1: two addresses are in the same (size-aligned) slab when their xor is at most this.</summary>
    private readonly ulong _slabMask;

    public FreePointer(ulong random, int offset, int slabBytes)
    {
        _random = random;
        _offset = (ulong)offset;
        _slabMask = (ulong)slabBytes - 1;
    }

    /// <summary>The free pointer word of <paramref name="obj"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong* Word(void* obj) => (ulong*)((byte*)obj + _offset);

    /// <summary>The part of the encoding that depends on where the object is (SLUB's <c>swab(ptr_addr)</c>, here a rotation of the object's address).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Mask(void* obj) => _random ^ BitOperations.RotateLeft((ulong)obj, 32);

    /// <summary><c>freelist_ptr_encode</c>: <paramref name="next"/> as stored in <paramref name="obj"/>'s free pointer word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Encode(void* obj, void* next) => (ulong)next ^ Mask(obj);

    /// <summary><c>freelist_ptr_decode</c>: what <paramref name="obj"/>'s free pointer word says comes next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Decode(void* obj, ulong stored) => (void*)(stored ^ Mask(obj));

    /// <summary>The word of a free object that is not on a slab freelist: the object encoded as its own next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Key(void* obj) => Encode(obj, obj);

    /// <summary>
    /// The next pointer that ends a slab's freelist: the last byte of the slab, inside it (so the word still looks
    /// free) but never an object start (objects are 8-byte aligned).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* End(void* obj) => (void*)((ulong)obj | _slabMask);

    /// <summary>
    /// True when <paramref name="stored"/>, found in <paramref name="obj"/>'s free pointer word, decodes to an address
    /// in <paramref name="obj"/>'s own slab: the mark of a free object. A live object's word is arbitrary user data and
    /// fails this unless it holds exactly such an encoding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool LooksFree(void* obj, ulong stored) => (stored ^ Key(obj)) <= _slabMask;

    /// <summary><see cref="LooksFree"/> against the object's <see cref="Key"/>, computed once by the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool LooksFreeFor(ulong key, ulong stored) => (stored ^ key) <= _slabMask;
}
