using System;
using System.Runtime.InteropServices;

namespace SlabGen.Core;

/// <summary>
/// Each thread's table of magazines, indexed by cache slot. The table is native memory, found through one
/// thread-static pointer; a finalizable owner object gives every magazine back to its cache when the thread dies.
/// </summary>
internal static unsafe class ThreadMagazines
{
    /// <summary>
    /// This thread's table (<see cref="CacheChain.MaxCaches"/> entries, <see cref="Magazine.None"/> where the thread
    /// has no magazine), or null before its first slow path.
    /// </summary>
    [ThreadStatic] internal static Magazine** t_table;

    [ThreadStatic] private static TableOwner? t_owner;

    /// <summary>This thread's entry for <paramref name="slot"/>: its magazine, or <see cref="Magazine.None"/>.</summary>
    public static Magazine* Entry(int slot)
    {
        Magazine** table = t_table; // one thread-local read
        return table == null ? Magazine.None : table[slot];
    }

    /// <summary>This thread's magazine in <paramref name="slot"/>, or null.</summary>
    public static Magazine* Get(int slot)
    {
        Magazine* m = Entry(slot);
        return m == Magazine.None ? null : m;
    }

    /// <summary>Installs <paramref name="m"/> as this thread's magazine for <paramref name="cache"/>.</summary>
    public static void Install(SlabCache cache, Magazine* m)
    {
        if (t_table == null)
        {
            var table = (Magazine**)NativeMemory.Alloc(CacheChain.MaxCaches, (nuint)sizeof(Magazine*));
            new Span<nint>(table, CacheChain.MaxCaches).Fill((nint)Magazine.None);
            t_owner = new TableOwner(table);
            t_table = table;
        }
        t_owner!.Caches[cache.Slot] = cache;
        t_table[cache.Slot] = m;
    }

    /// <summary>Forgets (and frees) this thread's magazine in <paramref name="slot"/>; it must be dead.</summary>
    public static void Remove(int slot)
    {
        Magazine* m = t_table[slot];
        t_table[slot] = Magazine.None;
        t_owner!.Caches[slot] = null;
        Magazine.Destroy(m);
    }

    /// <summary>Runs when a thread's table becomes unreachable, i.e. after the thread has exited.</summary>
    private sealed class TableOwner(Magazine** table)
    {
        public readonly SlabCache?[] Caches = new SlabCache?[CacheChain.MaxCaches];

        ~TableOwner()
        {
            for (int slot = 0; slot < Caches.Length; slot++)
            {
                Magazine* m = table[slot];
                if (m == Magazine.None)
                    continue;
                Caches[slot]?.RetireMagazine(m);
                Magazine.Destroy(m);
            }
            NativeMemory.Free(table);
        }
    }
}
