using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// The native allocators a speed-minded .NET user could put under their code, loaded from the Debian packages
/// <c>libmimalloc2.0</c>, <c>libjemalloc2</c> and <c>libtcmalloc-minimal4</c>, and glibc's own <c>malloc</c>/<c>free</c>
/// called the same way. Each is called through a <c>delegate* unmanaged[SuppressGCTransition]</c> function pointer
/// read from a static readonly field: no P/Invoke stub and no GC transition (which <c>NativeMemory.Alloc</c> pays),
/// so the peers' numbers are the allocators' own. A library that is missing leaves its pointers null and its
/// benchmarks are filtered out before they run (<see cref="IsSkipped"/>).
/// </summary>
public static unsafe class NativePeers
{
    public static readonly NativePeer Mimalloc;
    public static readonly NativePeer Jemalloc;
    public static readonly NativePeer Tcmalloc;
    public static readonly NativePeer Glibc;

    // mimalloc: mi_malloc / mi_free, and mi_free_size for the sized-free rows.
    public static readonly delegate* unmanaged[SuppressGCTransition]<nuint, void*> MiMalloc;
    public static readonly delegate* unmanaged[SuppressGCTransition]<void*, void> MiFree;
    public static readonly delegate* unmanaged[SuppressGCTransition]<void*, nuint, void> MiFreeSize;

    // jemalloc's non-standard API: mallocx(size, flags) / dallocx(ptr, flags), flags 0 (the thread's tcache, arena 0..n).
    public static readonly delegate* unmanaged[SuppressGCTransition]<nuint, int, void*> JeMallocx;
    public static readonly delegate* unmanaged[SuppressGCTransition]<void*, int, void> JeDallocx;
    public static readonly delegate* unmanaged[SuppressGCTransition]<void*, nuint, int, void> JeSdallocx;

    // tcmalloc (gperftools, minimal): tc_malloc / tc_free, and tc_free_sized.
    public static readonly delegate* unmanaged[SuppressGCTransition]<nuint, void*> TcMalloc;
    public static readonly delegate* unmanaged[SuppressGCTransition]<void*, void> TcFree;
    public static readonly delegate* unmanaged[SuppressGCTransition]<void*, nuint, void> TcFreeSized;

    // glibc's malloc / free from libc.so.6: the allocator NativeMemory uses, without its P/Invoke.
    public static readonly delegate* unmanaged[SuppressGCTransition]<nuint, void*> LibcMalloc;
    public static readonly delegate* unmanaged[SuppressGCTransition]<void*, void> LibcFree;

    static NativePeers()
    {
        Mimalloc = NativePeer.Load("mimalloc", "libmimalloc2.0", "libmimalloc.so.2", "mi_malloc/mi_free", "Mimalloc");
        MiMalloc = (delegate* unmanaged[SuppressGCTransition]<nuint, void*>)Mimalloc.Export("mi_malloc");
        MiFree = (delegate* unmanaged[SuppressGCTransition]<void*, void>)Mimalloc.Export("mi_free");
        MiFreeSize = (delegate* unmanaged[SuppressGCTransition]<void*, nuint, void>)Mimalloc.Export("mi_free_size");
        if (Mimalloc.Optional("mi_version") is var miVersion and not 0)
        {
            int v = ((delegate* unmanaged<int>)miVersion)(); // 209 = 2.0.9
            Mimalloc.Version = $"{v / 100}.{v / 10 % 10}.{v % 10}";
        }

        Jemalloc = NativePeer.Load("jemalloc", "libjemalloc2", "libjemalloc.so.2", "mallocx/dallocx", "Jemalloc");
        JeMallocx = (delegate* unmanaged[SuppressGCTransition]<nuint, int, void*>)Jemalloc.Export("mallocx");
        JeDallocx = (delegate* unmanaged[SuppressGCTransition]<void*, int, void>)Jemalloc.Export("dallocx");
        JeSdallocx = (delegate* unmanaged[SuppressGCTransition]<void*, nuint, int, void>)Jemalloc.Export("sdallocx");
        JeMallctl = (delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int>)Jemalloc.Optional("mallctl");
        if (JeMallctl != null)
        {
            byte* version = null;
            nuint length = (nuint)sizeof(byte*);
            fixed (byte* name = "version\0"u8)
                if (JeMallctl(name, &version, &length, null, 0) == 0 && version != null)
                    Jemalloc.Version = Marshal.PtrToStringUTF8((nint)version)?.Split('-')[0];
        }

        Tcmalloc = NativePeer.Load("tcmalloc", "libtcmalloc-minimal4", "libtcmalloc_minimal.so.4", "tc_malloc/tc_free", "Tcmalloc");
        TcMalloc = (delegate* unmanaged[SuppressGCTransition]<nuint, void*>)Tcmalloc.Export("tc_malloc");
        TcFree = (delegate* unmanaged[SuppressGCTransition]<void*, void>)Tcmalloc.Export("tc_free");
        TcFreeSized = (delegate* unmanaged[SuppressGCTransition]<void*, nuint, void>)Tcmalloc.Export("tc_free_sized");
        TcNumericProperty = (delegate* unmanaged<byte*, nuint*, int>)Tcmalloc.Optional("MallocExtension_GetNumericProperty");
        MiProcessInfo = (delegate* unmanaged<nuint*, nuint*, nuint*, nuint*, nuint*, nuint*, nuint*, nuint*, void>)Mimalloc.Optional("mi_process_info");
        if (Tcmalloc.Optional("tc_version") is var tcVersion and not 0)
        {
            int major, minor;
            byte* patch;
            byte* text = ((delegate* unmanaged<int*, int*, byte**, byte*>)tcVersion)(&major, &minor, &patch);
            Tcmalloc.Version = text != null ? Marshal.PtrToStringUTF8((nint)text)?.Replace("gperftools ", "") : $"{major}.{minor}";
        }

        Glibc = NativePeer.Load("glibc", "libc6", "libc.so.6", "malloc/free", "Glibc");
        LibcMalloc = (delegate* unmanaged[SuppressGCTransition]<nuint, void*>)Glibc.Export("malloc");
        LibcFree = (delegate* unmanaged[SuppressGCTransition]<void*, void>)Glibc.Export("free");
        if (Glibc.Optional("gnu_get_libc_version") is var libcVersion and not 0)
            Glibc.Version = Marshal.PtrToStringUTF8((nint)((delegate* unmanaged<byte*>)libcVersion)());
    }

    /// <summary>jemalloc's <c>mallctl</c> (statistics for the memory step), or null.</summary>
    public static readonly delegate* unmanaged<byte*, void*, nuint*, void*, nuint, int> JeMallctl;

    /// <summary>mimalloc's <c>mi_process_info</c> (its committed bytes, for the memory step), or null.</summary>
    public static readonly delegate* unmanaged<nuint*, nuint*, nuint*, nuint*, nuint*, nuint*, nuint*, nuint*, void> MiProcessInfo;

    /// <summary>tcmalloc's <c>MallocExtension_GetNumericProperty</c> (statistics for the memory step), or null.</summary>
    public static readonly delegate* unmanaged<byte*, nuint*, int> TcNumericProperty;

    /// <summary>The three allocators the "best native peer" comparison picks from, then glibc.</summary>
    public static IReadOnlyList<NativePeer> All => [Mimalloc, Jemalloc, Tcmalloc, Glibc];

    /// <summary>Method-name prefixes of the peers the "SlabGen vs the best native peer" table compares against.</summary>
    public static readonly string[] BestOf = ["Mimalloc", "Jemalloc", "Tcmalloc"];

    /// <summary>True when <paramref name="method"/> is a benchmark of a native peer that could not be loaded.</summary>
    public static bool IsSkipped(string method) => All.Any(p => !p.IsLoaded && method.StartsWith(p.MethodPrefix, StringComparison.Ordinal));

    /// <summary>The peers that will not run.</summary>
    public static IEnumerable<NativePeer> Skipped => All.Where(p => !p.IsLoaded);

    /// <summary>True when jemalloc is installed but could not be loaded for lack of static TLS (see <see cref="StaticTls"/>).</summary>
    public static bool NeedsStaticTls => !Jemalloc.IsLoaded && Jemalloc.Problem!.Contains("static TLS", StringComparison.Ordinal);
}
