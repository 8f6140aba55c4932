using System;
using System.Collections.Generic;
using System.Threading;
using SlabGen.PageAlloc;

namespace SlabGen.Core;

/// <summary>
/// Each thread's table of magazines, indexed by cache slot and found through one thread-static pointer. A table is
/// its own mapping of <see cref="CacheChain.MaxCaches"/> entries (after a page that ends with the table's dead
/// magazine header) whose pages are backed only once written, so a thread pays for the pages that hold the slots of
/// the caches it uses (512 slots a page), not for all of them.
/// Every table is registered with its thread: the reaper, <see cref="SlabCache.Shrink"/> and destroy give an exited
/// thread's magazines back to their caches and unmap its table (<see cref="ReclaimExited"/>), with no garbage
/// collection needed; a finalizable owner object does the same if none of them runs first.
/// </summary>
internal static unsafe class ThreadMagazines
{
    /// <summary>
    /// Bytes from a table's dead magazine header to its first entry: the header (zero, so tag 0 and nothing held) that
    /// every empty entry names (<see cref="Magazine.FromEntry"/>). It ends the page in front of the entries, which
    /// stay page-aligned.
    /// </summary>
    public const int HeaderBytes = 64;

    /// <summary>A table's mapping: the page that ends with its header, then <see cref="CacheChain.MaxCaches"/> entries.</summary>
    private static nuint MappingBytes => (nuint)PageSource.PageSize + (nuint)CacheChain.MaxCaches * (nuint)sizeof(nint);

    /// <summary>
    /// This thread's table (<see cref="Magazine.ToEntry"/> encoding: 0 is the table's dead header), or null before
    /// its first slow path.
    /// </summary>
    [ThreadStatic] internal static nint* t_table;

    [ThreadStatic] private static TableOwner? t_owner;

    /// <summary>
    /// The registry of tables, in a class of its own: this class then has no static initializer, so a Native AOT
    /// fast path reads <see cref="t_table"/> with no class-initialization check in front of it.
    /// </summary>
    private static class Registry
    {
        /// <summary>Guards <see cref="Tables"/> and the release of any table.</summary>
        internal static readonly Lock Lock = new();

        /// <summary>Every table not yet released, with its thread.</summary>
        internal static readonly List<ThreadTable> Tables = new();
    }

    /// <summary>Tables not yet released, live threads' and exited ones' (for tests and statistics).</summary>
    public static int TableCount
    {
        get
        {
            lock (Registry.Lock)
                return Registry.Tables.Count;
        }
    }

    /// <summary>This thread's entry for <paramref name="slot"/>: its magazine, or a dead one (tag 0) when it has none.</summary>
    public static Magazine* Entry(int slot)
    {
        nint* table = t_table; // one thread-local read
        return table == null ? Magazine.None : Magazine.FromEntry(table, table[slot]);
    }

    /// <summary>This thread's magazine in <paramref name="slot"/>, or null.</summary>
    public static Magazine* Get(int slot)
    {
        nint* table = t_table;
        return table == null || table[slot] == 0 ? null : Magazine.FromEntry(table, table[slot]);
    }

    /// <summary>Installs <paramref name="m"/> as this thread's magazine for <paramref name="cache"/>.</summary>
    /// <exception cref="OutOfMemoryException">No table could be mapped; <paramref name="m"/> is not installed.</exception>
    public static void Install(SlabCache cache, Magazine* m)
    {
        if (t_table == null)
            CreateTable();
        ThreadTable table = t_owner!.Table;
        if (cache.Slot > table.HighSlot)
            Volatile.Write(ref table.HighSlot, cache.Slot);
        t_table[cache.Slot] = Magazine.ToEntry(t_table, m);
    }

    /// <summary>
    /// This thread's table, mapped now if it has none yet: what a thread-bound handle (<see cref="SlabLocal{T}"/>)
    /// reads once and keeps, since a table stays put until its thread exits.
    /// </summary>
    /// <exception cref="OutOfMemoryException">No table could be mapped.</exception>
    public static nint* Table()
    {
        if (t_table == null)
            CreateTable();
        return t_table;
    }

    private static void CreateTable()
    {
        System.Diagnostics.Debug.Assert(sizeof(Magazine) == HeaderBytes, "a table's header is one magazine header");
        byte* mapping = VirtualMemory.Map(MappingBytes);
        if (mapping == null)
            throw new OutOfMemoryException("SlabGen: cannot map a thread's magazine table.");
        var table = (nint*)(mapping + PageSource.PageSize);
        var entry = new ThreadTable(Thread.CurrentThread, table);
        lock (Registry.Lock)
            Registry.Tables.Add(entry);
        t_owner = new TableOwner(entry);
        t_table = table;
    }

    /// <summary>Forgets (and frees) this thread's magazine in <paramref name="slot"/>; it must be dead.</summary>
    public static void Remove(int slot)
    {
        Magazine* m = Magazine.FromEntry(t_table, t_table[slot]);
        t_table[slot] = 0;
        Magazine.Destroy(m);
    }

    /// <summary>
    /// Gives back every magazine of every exited thread to its cache and unmaps the thread's table. Runs from each
    /// reap pass, <see cref="SlabCache.Shrink"/> and destroy. Caller holds the chain mutex (it takes magazine locks).
    /// </summary>
    /// <returns>Tables released.</returns>
    public static int ReclaimExited()
    {
        var exited = new List<ThreadTable>();
        lock (Registry.Lock)
        {
            for (int i = Registry.Tables.Count - 1; i >= 0; i--)
            {
                if (!Registry.Tables[i].Thread.IsAlive)
                {
                    exited.Add(Registry.Tables[i]);
                    Registry.Tables.RemoveAt(i);
                }
            }
        }
        foreach (ThreadTable t in exited)
            t.Release();
        return exited.Count;
    }

    /// <summary>One thread's table and what releasing it needs.</summary>
    private sealed class ThreadTable(Thread thread, nint* table)
    {
        public readonly Thread Thread = thread;

        /// <summary>The highest slot the thread ever installed a magazine in: releasing looks no further.</summary>
        public int HighSlot;

        private nint _table = (nint)table;

        /// <summary>
        /// Gives each magazine still live back to its cache (a magazine with a tag is always in the live cache of its
        /// slot: destroy kills every magazine of its cache) and unmaps the table. Its thread must have exited. Idempotent.
        /// </summary>
        public void Release()
        {
            var table = (nint*)Interlocked.Exchange(ref _table, 0);
            if (table == null)
                return;
            int high = Volatile.Read(ref HighSlot);
            for (int slot = 1; slot <= high; slot++)
            {
                if (table[slot] == 0)
                    continue;
                Magazine* m = Magazine.FromEntry(table, table[slot]);
                if (Volatile.Read(ref m->Tag) != 0)
                    CacheChain.BySlot(slot)?.Magazines.ReleaseExited(m);
                Magazine.Destroy(m);
            }
            VirtualMemory.Unmap((byte*)table - PageSource.PageSize, MappingBytes);
        }
    }

    /// <summary>Runs when a thread's table becomes unreachable (after the thread has exited) unless a reclaim ran first.</summary>
    private sealed class TableOwner(ThreadTable table)
    {
        public readonly ThreadTable Table = table;

        ~TableOwner()
        {
            lock (Registry.Lock)
                Registry.Tables.Remove(Table);
            Table.Release();
            SlabErrors.Flush();
        }
    }
}
