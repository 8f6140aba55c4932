using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>One allocator's cost in memory for <see cref="MemoryFootprint.Objects"/> live objects.</summary>
public sealed record MemoryResult(string Allocator, string Source, string Label, long Bytes, long Objects, int ObjectSize)
{
    public double BytesPerObject => (double)Bytes / Objects;
    public double OfPayload => BytesPerObject / ObjectSize;
}

/// <summary>
/// Memory per live object: 1,000,000 live 64-byte objects, counted by the page source for SlabGen (blocks handed to
/// slabs + slab descriptor tables), by the process's resident set (and glibc's own in-use count) for the C allocator,
/// by the resident set and each allocator's own statistics for the native peers, and by the GC heap for managed
/// objects. Runs before any benchmark, in a fresh process, so the heaps start clean.
/// </summary>
public static unsafe class MemoryFootprint
{
    public const int Objects = 1_000_000;
    public const int ObjectSize = 64;

    public static List<MemoryResult> Measure()
    {
        var results = new List<MemoryResult>();
        var ptrs = new nint[Objects];
        ptrs.AsSpan().Fill(1); // touch the pointer array before the first reading, so it is not counted
        Settle();

        // The C allocator: resident set delta, and glibc's in-use bytes (mallinfo2.uordblks) delta.
        long rss0 = ResidentBytes();
        long used0 = MallocInUse();
        for (int i = 0; i < Objects; i++)
        {
            long* p = (long*)NativeMemory.Alloc(ObjectSize);
            new Span<byte>(p, ObjectSize).Fill(0x5a);
            ptrs[i] = (nint)p;
        }
        long rss1 = ResidentBytes();
        long used1 = MallocInUse();
        results.Add(new MemoryResult("NativeMemory.Alloc (glibc malloc)", "RSS delta (/proc/self/statm)", "glibc malloc, RSS", rss1 - rss0, Objects, ObjectSize));
        if (used0 >= 0 && used1 >= 0)
            results.Add(new MemoryResult("NativeMemory.Alloc (glibc malloc)", "mallinfo2 in-use delta", "glibc malloc, mallinfo2", used1 - used0, Objects, ObjectSize));
        for (int i = 0; i < Objects; i++)
            NativeMemory.Free((void*)ptrs[i]);
        Settle();

        // SlabGen: the page source's own count, and the resident set as a cross-check.
        using (SlabCache cache = SlabCache.Create("bench_memory_64", ObjectSize, flags: SlabFlags.Panic)!)
        {
            long pages0 = SlabAllocator.PageBytes + SlabAllocator.MetadataBytes;
            rss0 = ResidentBytes();
            for (int i = 0; i < Objects; i++)
            {
                void* p = cache.Alloc();
                new Span<byte>(p, ObjectSize).Fill(0x5a);
                ptrs[i] = (nint)p;
            }
            long pages1 = SlabAllocator.PageBytes + SlabAllocator.MetadataBytes;
            rss1 = ResidentBytes();
            results.Add(new MemoryResult("SlabGen SlabCache", "PageBytes + MetadataBytes delta", "SlabGen, page source count", pages1 - pages0, Objects, ObjectSize));
            results.Add(new MemoryResult("SlabGen SlabCache", "RSS delta (/proc/self/statm)", "SlabGen, RSS", rss1 - rss0, Objects, ObjectSize));
            for (int i = 0; i < Objects; i++)
                cache.Free((void*)ptrs[i]);
        }
        Settle();

        // The native peers: the resident set delta, and each allocator's own count.
        // mimalloc's own statistic (mi_process_info's current_commit) moves in whole committed segment chunks and is not
        // a per-object count, so mimalloc is counted by the resident set only.
        MeasureNative<MimallocHeap>(results, ptrs, NativePeers.Mimalloc, "mimalloc mi_malloc", () => -1, "", "");
        MeasureNative<JemallocHeap>(results, ptrs, NativePeers.Jemalloc, "jemalloc mallocx", JemallocResident, "mallctl stats.resident delta", "stats.resident");
        MeasureNative<TcmallocHeap>(results, ptrs, NativePeers.Tcmalloc, "tcmalloc tc_malloc", TcmallocSpansInUse,
            "MallocExtension heap_size - pageheap free - unmapped delta", "spans in use");

        // The GC heap: 1,000,000 live objects with a 64-byte payload (header and method table included).
        var objects = new Obj64[Objects];
        long heap0 = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < Objects; i++)
            objects[i] = new Obj64 { Stamp = i };
        long heap1 = GC.GetTotalMemory(forceFullCollection: true);
        results.Add(new MemoryResult("GC new (class, 64-byte payload)", "GC.GetTotalMemory delta", "GC new, GC heap", heap1 - heap0, Objects, ObjectSize));
        GC.KeepAlive(objects);
        GC.KeepAlive(ptrs);
        return results;
    }

    /// <summary>
    /// <see cref="Objects"/> live blocks from a native peer: the process's resident set delta, and the allocator's own
    /// count from <paramref name="own"/> (negative when it has none). One block is allocated and freed first,
    /// so the allocator's one-time set-up for this thread is not counted.
    /// </summary>
    private static void MeasureNative<T>(List<MemoryResult> results, nint[] ptrs, NativePeer peer, string allocator, Func<long> own,
        string ownSource, string ownLabel) where T : struct, IMalloc
    {
        if (!peer.IsLoaded)
            return;
        T.Free(T.Malloc(ObjectSize));
        Settle();
        long rss0 = ResidentBytes();
        long own0 = own();
        for (int i = 0; i < Objects; i++)
        {
            void* p = T.Malloc(ObjectSize);
            new Span<byte>(p, ObjectSize).Fill(0x5a);
            ptrs[i] = (nint)p;
        }
        long rss1 = ResidentBytes();
        long own1 = own();
        results.Add(new MemoryResult(allocator, "RSS delta (/proc/self/statm)", $"{peer.Name}, RSS", rss1 - rss0, Objects, ObjectSize));
        if (own0 >= 0 && own1 >= 0)
            results.Add(new MemoryResult(allocator, ownSource, $"{peer.Name}, {ownLabel}", own1 - own0, Objects, ObjectSize));
        for (int i = 0; i < Objects; i++)
            T.Free((void*)ptrs[i]);
        Settle();
    }

    /// <summary>jemalloc's resident bytes (<c>stats.resident</c>: pages backing allocations and metadata), or -1.</summary>
    private static long JemallocResident()
    {
        if (NativePeers.JeMallctl == null)
            return -1;
        ulong epoch = 1;
        nuint size = sizeof(ulong);
        nuint resident = 0, length = (nuint)sizeof(nuint);
        fixed (byte* epochName = "epoch\0"u8)
        fixed (byte* residentName = "stats.resident\0"u8)
        {
            if (NativePeers.JeMallctl(epochName, &epoch, &size, &epoch, size) != 0) // refreshes the statistics
                return -1;
            return NativePeers.JeMallctl(residentName, &resident, &length, null, 0) == 0 ? (long)resident : -1;
        }
    }

    /// <summary>tcmalloc's bytes in spans in use: <c>generic.heap_size</c> less the page heap's free and unmapped bytes, or -1.</summary>
    private static long TcmallocSpansInUse()
    {
        if (NativePeers.TcNumericProperty == null)
            return -1;
        nuint heap = 0, free = 0, unmapped = 0;
        fixed (byte* heapName = "generic.heap_size\0"u8)
        fixed (byte* freeName = "tcmalloc.pageheap_free_bytes\0"u8)
        fixed (byte* unmappedName = "tcmalloc.pageheap_unmapped_bytes\0"u8)
        {
            if (NativePeers.TcNumericProperty(heapName, &heap) == 0 || NativePeers.TcNumericProperty(freeName, &free) == 0
                || NativePeers.TcNumericProperty(unmappedName, &unmapped) == 0)
                return -1;
        }
        return (long)heap - (long)free - (long)unmapped;
    }

    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>Resident bytes of this process (second field of /proc/self/statm, in pages); working set elsewhere.</summary>
    private static long ResidentBytes()
    {
        try
        {
            string[] fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1]) * Environment.SystemPageSize;
        }
        catch (IOException)
        {
            return Environment.WorkingSet;
        }
        catch (UnauthorizedAccessException)
        {
            return Environment.WorkingSet;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 mallinfo2();

    /// <summary>glibc's bytes in use by malloc (all arenas' <c>uordblks</c> + mmapped chunks), or -1 off glibc.</summary>
    private static long MallocInUse()
    {
        if (!OperatingSystem.IsLinux())
            return -1;
        try
        {
            MallInfo2 info = mallinfo2();
            return (long)info.Uordblks + (long)info.Hblkhd;
        }
        catch (DllNotFoundException)
        {
            return -1;
        }
        catch (EntryPointNotFoundException)
        {
            return -1;
        }
    }
}
