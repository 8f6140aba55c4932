using System;
using System.Runtime.InteropServices;

namespace SlabGen.PageAlloc;

/// <summary>
/// The operating system's virtual memory calls the page source needs: reserve address space without backing it,
/// make a range readable and writable, and give a range's physical pages back while keeping it mapped.
/// </summary>
internal static unsafe partial class VirtualMemory
{
    /// <summary>Reserves <paramref name="bytes"/> of address space, inaccessible until <see cref="Commit"/>; null on failure.</summary>
    public static byte* Reserve(nuint bytes)
    {
        if (OperatingSystem.IsWindows())
            return (byte*)Windows.VirtualAlloc(null, bytes, Windows.MEM_RESERVE, Windows.PAGE_NOACCESS);

        int flags = OperatingSystem.IsLinux()
            ? Unix.MAP_PRIVATE | Unix.MAP_ANONYMOUS_LINUX | Unix.MAP_NORESERVE_LINUX
            : Unix.MAP_PRIVATE | Unix.MAP_ANON_BSD;
        void* p = OperatingSystem.IsLinux()
            ? Unix.LinuxMmap(null, bytes, Unix.PROT_NONE, flags, -1, 0)
            : Unix.BsdMmap(null, bytes, Unix.PROT_NONE, flags, -1, 0);
        return p == Unix.MAP_FAILED ? null : (byte*)p;
    }

    /// <summary>Makes a reserved range readable and writable (pages are backed lazily, on first touch).</summary>
    public static bool Commit(byte* address, nuint bytes)
    {
        if (OperatingSystem.IsWindows())
            return Windows.VirtualAlloc(address, bytes, Windows.MEM_COMMIT, Windows.PAGE_READWRITE) != null;
        return (OperatingSystem.IsLinux()
            ? Unix.LinuxMprotect(address, bytes, Unix.PROT_READ | Unix.PROT_WRITE)
            : Unix.BsdMprotect(address, bytes, Unix.PROT_READ | Unix.PROT_WRITE)) == 0;
    }

    /// <summary>
    /// Maps <paramref name="bytes"/> of fresh zeroed, readable and writable memory of its own (pages are backed on first
    /// write, so untouched pages cost nothing); null on failure. Give it back with <see cref="Unmap"/>.
    /// </summary>
    public static byte* Map(nuint bytes)
    {
        if (OperatingSystem.IsWindows())
            return (byte*)Windows.VirtualAlloc(null, bytes, Windows.MEM_RESERVE | Windows.MEM_COMMIT, Windows.PAGE_READWRITE);
        int flags = OperatingSystem.IsLinux() ? Unix.MAP_PRIVATE | Unix.MAP_ANONYMOUS_LINUX : Unix.MAP_PRIVATE | Unix.MAP_ANON_BSD;
        void* p = OperatingSystem.IsLinux()
            ? Unix.LinuxMmap(null, bytes, Unix.PROT_READ | Unix.PROT_WRITE, flags, -1, 0)
            : Unix.BsdMmap(null, bytes, Unix.PROT_READ | Unix.PROT_WRITE, flags, -1, 0);
        return p == Unix.MAP_FAILED ? null : (byte*)p;
    }

    /// <summary>Unmaps a range from <see cref="Map"/>.</summary>
    public static void Unmap(byte* address, nuint bytes)
    {
        if (OperatingSystem.IsWindows())
            Windows.VirtualFree(address, 0, Windows.MEM_RELEASE);
        else if (OperatingSystem.IsLinux())
            Unix.LinuxMunmap(address, bytes);
        else
            Unix.BsdMunmap(address, bytes);
    }

    /// <summary>
    /// Returns a committed range's physical pages to the OS. The range stays mapped and readable, so a later range
    /// check followed by a read of slab metadata never faults.
    /// </summary>
    public static void Discard(byte* address, nuint bytes)
    {
        if (OperatingSystem.IsWindows())
            Windows.VirtualAlloc(address, bytes, Windows.MEM_RESET, Windows.PAGE_READWRITE);
        else if (OperatingSystem.IsLinux())
            Unix.LinuxMadvise(address, bytes, Unix.MADV_DONTNEED);
        else
            Unix.BsdMadvise(address, bytes, Unix.MADV_DONTNEED);
    }

    private static partial class Unix
    {
        public const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
        public const int MAP_PRIVATE = 0x02, MAP_ANONYMOUS_LINUX = 0x20, MAP_NORESERVE_LINUX = 0x4000, MAP_ANON_BSD = 0x1000;
        public const int MADV_DONTNEED = 4;
        public static readonly void* MAP_FAILED = (void*)-1;

        [LibraryImport("libc.so.6", EntryPoint = "mmap")]
        public static partial void* LinuxMmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

        [LibraryImport("libc.so.6", EntryPoint = "mprotect")]
        public static partial int LinuxMprotect(void* addr, nuint length, int prot);

        [LibraryImport("libc.so.6", EntryPoint = "munmap")]
        public static partial int LinuxMunmap(void* addr, nuint length);

        [LibraryImport("libc.so.6", EntryPoint = "madvise")]
        public static partial int LinuxMadvise(void* addr, nuint length, int advice);

        [LibraryImport("libc", EntryPoint = "mmap")]
        public static partial void* BsdMmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

        [LibraryImport("libc", EntryPoint = "mprotect")]
        public static partial int BsdMprotect(void* addr, nuint length, int prot);

        [LibraryImport("libc", EntryPoint = "munmap")]
        public static partial int BsdMunmap(void* addr, nuint length);

        [LibraryImport("libc", EntryPoint = "madvise")]
        public static partial int BsdMadvise(void* addr, nuint length, int advice);
    }

    private static partial class Windows
    {
        public const uint MEM_COMMIT = 0x1000, MEM_RESERVE = 0x2000, MEM_RESET = 0x80000, MEM_RELEASE = 0x8000;
        public const uint PAGE_NOACCESS = 0x01, PAGE_READWRITE = 0x04;

        [LibraryImport("kernel32.dll")]
        public static partial void* VirtualAlloc(void* address, nuint size, uint allocationType, uint protect);

        [LibraryImport("kernel32.dll")]
        public static partial int VirtualFree(void* address, nuint size, uint freeType);
    }
}
