using System.Runtime.InteropServices;

namespace SlabGen.Core;

/// <summary>Which node list a slab is on (<c>slabs_partial</c>, <c>slabs_full</c>, <c>slabs_free</c>, or quarantine).</summary>
internal enum SlabList : byte
{
    None = 0,
    Partial = 1,
    Full = 2,
    Free = 3,

    /// <summary>
    /// A slab whose metadata was found damaged (a corrupt free pointer, an impossible count, an object overwritten
    /// while free): never allocated from again and never given back while the cache lives, so that a stray writer can
    /// hit no other object. The kernel's "Marking all objects used" (<c>slab_fix</c> after <c>on_freelist</c>).
    /// </summary>
    Quarantined = 4,
}

/// <summary>
/// One slab's descriptor: the kernel's <c>struct slab</c> (the slab fields of <c>struct page</c>). Descriptors live
/// beside the memory they describe, one per block in the page source's per-arena table, so a block holds only
/// objects and an object pointer finds its descriptor with a shift (<c>virt_to_slab</c>).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Slab
{
    /// <summary>First free object; each free object holds the next at the cache's free-pointer offset.</summary>
    public byte* Freelist;

    /// <summary>Links on the node list named by <see cref="List"/>.</summary>
    public Slab* Next;
    public Slab* Prev;

    /// <summary>The block of 2^order pages this slab's objects live in.</summary>
    public byte* Base;

    /// <summary>Objects handed out of this slab (to per-CPU arrays or users).</summary>
    public ushort InUse;

    /// <summary>Objects the slab holds (<c>objects:15</c>).</summary>
    public ushort Objects;

    /// <summary>
    /// Objects never handed out yet are those from index <c>Bump</c> on: a new slab needs no freelist threaded
    /// through memory nobody has touched, so growing a cache costs no cache misses on its objects. The freelist
    /// holds only objects that were freed.
    /// </summary>
    public ushort Bump;

    /// <summary>Set while the slab is detached from every list on its way back to the page source.</summary>
    public byte Frozen;

    public SlabList List;

    /// <summary>The block is 2^Order pages: set for a large kmalloc block, whose order is all kfree needs to know.</summary>
    public byte Order;

    /// <summary>The node whose lists own this slab.</summary>
    public ushort Node;
}
