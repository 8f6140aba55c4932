using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using SlabGen.Core;

namespace SlabGen.PageAlloc;

/// <summary>
/// The page source: the buddy allocator's role (<c>alloc_pages</c>/<c>__free_pages</c>). It reserves one large
/// range of address space up front and serves blocks of 2^order pages, aligned to their size, carved from 4 MiB
/// arenas; each arena serves one client (a cache, or one order of large kmalloc blocks). Because the range is
/// reserved once, "is this pointer an object of cache X?" is one range check plus one read of the page owner table
/// (<see cref="PageOwner"/>, one entry per page, set only while the page belongs to a live slab or large block), which
/// never touches unmapped memory, and <c>ptr &amp; ~(blockBytes - 1)</c> then finds the slab (<c>virt_to_slab</c>).
/// </summary>
internal static unsafe class PageSource
{
    public const int PageShift = Policy.SlabLimits.PageShift;
    public const int PageSize = Policy.SlabLimits.PageSize;
    public const int ArenaShift = Policy.SlabLimits.ArenaShift;
    public const nuint ArenaSize = (nuint)1 << ArenaShift;
    public const nuint ArenaMask = ArenaSize - 1;

    /// <summary>The largest block is one arena: 4 MiB, the kernel's <c>KMALLOC_MAX_SIZE</c> on 4 KiB pages.</summary>
    public const int MaxOrder = Policy.SlabLimits.MaxOrder;

    /// <summary>Owner table value of a page or arena nobody holds.</summary>
    public const int OwnerNone = 0;

    /// <summary>Owner table value of a page of a live large kmalloc block, or of an arena of them (<c>kmalloc_large</c>).</summary>
    public const int OwnerLarge = -1;

    /// <summary>First byte of the reserved range (arena aligned).</summary>
    public static readonly byte* Base;

    /// <summary>Bytes reserved; pointers outside [Base, Base + ReserveBytes) were never ours.</summary>
    public static readonly nuint ReserveBytes;

    /// <summary>
    /// Per page of the reserve: the slot of the cache whose live slab holds it, <see cref="OwnerLarge"/> for a live large
    /// kmalloc block, else <see cref="OwnerNone"/>: a block on a free or resident list, or never handed out, belongs to
    /// nobody, so a stale or forged pointer into it is refused without reading it. Set by <see cref="Publish"/> once a
    /// block is ready for use and cleared by <see cref="FreePages"/> before it is given back (the kernel's
    /// <c>PageSlab</c> / <c>slab->slab_cache</c> test in <c>virt_to_cache</c>).
    /// </summary>
    public static readonly int* PageOwner;

    /// <summary>Per arena: the client it serves (<see cref="OwnerLarge"/> or a cache slot), or <see cref="OwnerNone"/>. Used to explain refusals.</summary>
    public static readonly int* ArenaOwner;

    /// <summary>Per arena: its descriptor table, one <see cref="Slab"/> per block (the kernel's struct page array).</summary>
    public static readonly Slab** Pages;

    private static readonly int s_arenaCount;
    private static readonly Arena?[] s_arenas;
    private static readonly Lock s_lock = new();
    private static readonly Stack<int> s_releasedArenas = new();
    private static readonly List<PageClient> s_clients = new();
    private static int s_nextUnopened;
    private static long s_blockBytes;
    private static long s_metadataBytes;

    static PageSource()
    {
        // Reserve as much as the OS lets us, from 64 GiB down; nothing is backed until a block is touched.
        nuint want = (nuint)64 << 30;
        byte* raw = null;
        while (want >= (nuint)256 << 20)
        {
            raw = VirtualMemory.Reserve(want + ArenaSize);
            if (raw != null)
                break;
            want /= 2;
        }
        if (raw == null)
            throw new OutOfMemoryException("SlabGen page source: could not reserve address space for slabs");

        Base = (byte*)(((nuint)raw + ArenaMask) & ~ArenaMask);
        ReserveBytes = want;
        s_arenaCount = (int)(want >> ArenaShift);
        // One int per page (64 MiB of address space for a 64 GiB reserve); calloc maps it lazily, so only the pages
        // of the table that cover open arenas are ever backed (4 KiB per arena, counted in MetadataBytes).
        PageOwner = (int*)NativeMemory.AllocZeroed(want >> PageShift, sizeof(int));
        ArenaOwner = (int*)NativeMemory.AllocZeroed((nuint)s_arenaCount, sizeof(int));
        Pages = (Slab**)NativeMemory.AllocZeroed((nuint)s_arenaCount, (nuint)sizeof(Slab*));
        s_arenas = new Arena?[s_arenaCount];
    }

    /// <summary>Bytes in blocks currently handed out to clients.</summary>
    public static long BlockBytes => Volatile.Read(ref s_blockBytes);

    /// <summary>Bytes of descriptor tables for open arenas.</summary>
    public static long MetadataBytes => Volatile.Read(ref s_metadataBytes);

    /// <summary>Index of the arena holding <paramref name="p"/>, or -1 when the pointer is outside the reserve.</summary>
    public static int ArenaOf(void* p)
    {
        nuint off = (nuint)p - (nuint)Base;
        return off < ReserveBytes ? (int)(off >> ArenaShift) : -1;
    }

    /// <summary>Descriptor of the block holding <paramref name="p"/>, for a pointer already known to be in an arena of order <paramref name="order"/> (<c>virt_to_slab</c>).</summary>
    public static Slab* VirtToSlab(void* p, int order)
    {
        nuint off = (nuint)p - (nuint)Base;
        return Pages[off >> ArenaShift] + ((off & ArenaMask) >> (PageShift + order));
    }

    /// <summary>Takes the page source's lock for a <c>using</c> scope (lock order level 7, the last).</summary>
    private static LockOrder.Scope EnterLock() => LockOrder.Enter(s_lock, LockOrder.Level.PageSource);

    /// <summary>Bytes of <see cref="PageOwner"/> that cover one arena.</summary>
    private const long OwnerBytesPerArena = (1L << (ArenaShift - PageShift)) * sizeof(int);

    /// <summary>The owner of the page holding <paramref name="p"/>, or <see cref="OwnerNone"/> outside the reserve.</summary>
    public static int PageOwnerOf(void* p)
    {
        nuint off = (nuint)p - (nuint)Base;
        return off < ReserveBytes ? PageOwner[off >> PageShift] : OwnerNone;
    }

    /// <summary>
    /// Marks every page of <paramref name="slab"/>'s block as <paramref name="client"/>'s: from here on pointers into it
    /// are accepted as the client's objects. The client calls it once the block is ready (objects constructed, free
    /// pointers written), so that no free can reach a half-made slab.
    /// </summary>
    public static void Publish(PageClient client, Slab* slab) => SetPageOwner(slab->Base, client.Order, client.OwnerId);

    private static void SetPageOwner(byte* block, int order, int owner)
    {
        int* first = PageOwner + (((nuint)block - (nuint)Base) >> PageShift);
        for (int i = 0; i < 1 << order; i++)
            Volatile.Write(ref first[i], owner);
    }

    /// <summary>Order of the blocks in arena <paramref name="arena"/> (which must be open).</summary>
    public static int OrderOfArena(int arena) => s_arenas[arena]!.Order;

    /// <summary>
    /// Resident free blocks allowed in all (<c>pcp->high</c> writ large): beyond it a freed block's pages go back to
    /// the OS at once.
    /// </summary>
    public const long MaxResidentFreeBytes = 256L << 20;

    private static long s_residentFreeBytes;

    /// <summary>Bytes of freed blocks still resident, waiting for reuse or for the reaper to discard them.</summary>
    public static long ResidentFreeBytes => Volatile.Read(ref s_residentFreeBytes);

    /// <summary>Takes one block of 2^<see cref="PageClient.Order"/> pages for <paramref name="client"/> (<c>alloc_pages</c>); null when the reserve is exhausted.</summary>
    public static Slab* AllocPages(PageClient client)
    {
        using (EnterLock())
        {
            Slab* slab;
            if (client.Resident.Count > 0)
            {
                // A block freed earlier and still resident: no page faults, no system call (the pcp lists' point).
                slab = (Slab*)client.Resident.Pop();
                client.ResidentLow = Math.Min(client.ResidentLow, client.Resident.Count);
                s_residentFreeBytes -= (long)client.BlockBytes;
                byte* residentBase = slab->Base;
                *slab = default;
                slab->Base = residentBase;
            }
            else
            {
                Arena? arena = client.Available.Count > 0 ? client.Available[^1] : OpenArena(client);
                if (arena == null)
                    return null;
                int index = arena.FreeTop > 0 ? arena.FreeStack[--arena.FreeTop] : arena.Bump++;
                arena.Used++;
                if (arena.FreeTop == 0 && arena.Bump == arena.BlockCount)
                {
                    client.Available.RemoveAt(client.Available.Count - 1);
                    arena.IsAvailable = false;
                }
                slab = Pages[arena.Index] + index;
                *slab = default;
                slab->Base = Base + ((nuint)arena.Index << ArenaShift) + ((nuint)index << (PageShift + client.Order));
            }
            s_blockBytes += (long)client.BlockBytes;
            client.Blocks++;
            return slab;
        }
    }

    /// <summary>
    /// Gives a block back (<c>free_unref_page</c>): it stays resident on the client's free list, so a cache that
    /// crosses its <c>free_limit</c> and grows again moments later pays no page faults; past
    /// <see cref="MaxResidentFreeBytes"/> its pages go back to the OS at once (<see cref="ReleasePages"/>).
    /// </summary>
    public static void FreePages(PageClient client, Slab* slab)
    {
        SetPageOwner(slab->Base, client.Order, OwnerNone); // from here on no pointer into the block is anybody's
        using (EnterLock())
        {
            s_blockBytes -= (long)client.BlockBytes;
            client.Blocks--;
            if (s_residentFreeBytes + (long)client.BlockBytes <= MaxResidentFreeBytes)
            {
                client.Resident.Push((nint)slab);
                s_residentFreeBytes += (long)client.BlockBytes;
                return;
            }
        }
        ReleasePages(client, slab);
    }

    /// <summary>
    /// Ages every client's resident free blocks (the periodic <c>drain_all_pages</c>): blocks that sat unused since
    /// the previous pass go back to the OS. Returns how many.
    /// </summary>
    public static int AgeResident()
    {
        PageClient[] clients;
        using (EnterLock())
            clients = s_clients.ToArray();
        int released = 0;
        foreach (PageClient client in clients)
        {
            int idle;
            using (EnterLock())
            {
                idle = client.ResidentLow;
                client.ResidentLow = client.Resident.Count - idle;
            }
            released += ReleaseResident(client, idle);
        }
        return released;
    }

    /// <summary>Releases up to <paramref name="max"/> of <paramref name="client"/>'s resident free blocks to the OS (<c>drain_pages</c>); returns how many.</summary>
    public static int ReleaseResident(PageClient client, int max = int.MaxValue)
    {
        int released = 0;
        while (released < max)
        {
            Slab* slab;
            using (EnterLock())
            {
                if (client.Resident.Count == 0)
                    break;
                slab = (Slab*)client.Resident.Pop();
                client.ResidentLow = Math.Min(client.ResidentLow, client.Resident.Count);
                s_residentFreeBytes -= (long)client.BlockBytes;
            }
            ReleasePages(client, slab);
            released++;
        }
        return released;
    }

    /// <summary>Gives a block back for good (<c>__free_pages</c>): its physical pages return to the OS at once, its address range to the arena, and an arena with no blocks left to the reserve.</summary>
    private static void ReleasePages(PageClient client, Slab* slab)
    {
        byte* block = slab->Base;
        VirtualMemory.Discard(block, client.BlockBytes);
        using (EnterLock())
        {
            int arenaIndex = (int)(((nuint)block - (nuint)Base) >> ArenaShift);
            Arena arena = s_arenas[arenaIndex]!;
            int index = (int)(((nuint)block & ArenaMask) >> (PageShift + client.Order));
            *slab = default;
            arena.FreeStack[arena.FreeTop++] = index;
            arena.Used--;
            if (arena.Used == 0)
                ReleaseArena(client, arena);
            else if (!arena.IsAvailable)
            {
                client.Available.Add(arena);
                arena.IsAvailable = true;
            }
        }
    }

    private static Arena? OpenArena(PageClient client)
    {
        int index;
        if (s_releasedArenas.Count > 0)
            index = s_releasedArenas.Pop();
        else if (s_nextUnopened < s_arenaCount)
        {
            index = s_nextUnopened;
            if (!VirtualMemory.Commit(Base + ((nuint)index << ArenaShift), ArenaSize))
                return null;
            s_nextUnopened++;
        }
        else
            return null;

        int blocks = 1 << (MaxOrder - client.Order);
        var arena = new Arena(index, client.Order, blocks);
        nuint tableBytes = (nuint)blocks * (nuint)sizeof(Slab);
        Pages[index] = (Slab*)NativeMemory.AllocZeroed(tableBytes);
        s_metadataBytes += (long)tableBytes + OwnerBytesPerArena;
        s_arenas[index] = arena;
        Volatile.Write(ref ArenaOwner[index], client.OwnerId);
        client.Available.Add(arena);
        arena.IsAvailable = true;
        return arena;
    }

    private static void ReleaseArena(PageClient client, Arena arena)
    {
        Volatile.Write(ref ArenaOwner[arena.Index], OwnerNone);
        if (arena.IsAvailable)
            client.Available.Remove(arena);
        s_metadataBytes -= (long)arena.BlockCount * sizeof(Slab) + OwnerBytesPerArena;
        NativeMemory.Free(Pages[arena.Index]);
        Pages[arena.Index] = null;
        s_arenas[arena.Index] = null;
        s_releasedArenas.Push(arena.Index);
    }

    /// <summary>One 4 MiB arena's bookkeeping: blocks never used yet (bump) and blocks given back (stack).</summary>
    internal sealed class Arena(int index, int order, int blockCount)
    {
        public readonly int Index = index;
        public readonly int Order = order;
        public readonly int BlockCount = blockCount;
        public readonly int[] FreeStack = new int[blockCount];
        public int FreeTop;
        public int Bump;
        public int Used;
        public bool IsAvailable;
    }

    /// <summary>One user of the page source: a cache, or one order of large kmalloc blocks.</summary>
    internal sealed class PageClient
    {
        public PageClient(int ownerId, int order)
        {
            OwnerId = ownerId;
            Order = order;
            using (EnterLock())
                s_clients.Add(this);
        }

        /// <summary>Releases the resident free blocks and forgets the client (its owner is gone).</summary>
        public void Close()
        {
            ReleaseResident(this);
            using (EnterLock())
                s_clients.Remove(this);
        }

        public readonly int OwnerId;
        public readonly int Order;
        public nuint BlockBytes => (nuint)PageSize << Order;
        internal readonly List<Arena> Available = new();

        /// <summary>Blocks this client holds now (not counting its resident free blocks).</summary>
        public int Blocks;

        /// <summary>Blocks the client freed whose pages are still resident, most recent on top (<c>per_cpu_pages</c>).</summary>
        internal readonly Stack<nint> Resident = new();

        /// <summary>The fewest resident free blocks since the last aging pass: that many sat unused the whole time.</summary>
        internal int ResidentLow;
    }
}
