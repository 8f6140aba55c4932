using System;
using System.Runtime.InteropServices;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// One native allocator library loaded beside glibc with <see cref="NativeLibrary.TryLoad(string, out nint)"/>. Only
/// its own exported functions are ever called, and every block it hands out goes back to its own free, so a second
/// malloc in the process is harmless: the runtime and glibc keep using glibc's <c>malloc</c>.
/// </summary>
public sealed class NativePeer
{
    private NativePeer(string name, string package, string library, string functions, string methodPrefix)
    {
        Name = name;
        Package = package;
        Library = library;
        Functions = functions;
        MethodPrefix = methodPrefix;
    }

    /// <summary>"mimalloc".</summary>
    public string Name { get; }

    /// <summary>The Debian package that installs <see cref="Library"/>: "libmimalloc2.0".</summary>
    public string Package { get; }

    /// <summary>The soname loaded: "libmimalloc.so.2".</summary>
    public string Library { get; }

    /// <summary>The functions the benchmarks call: "mi_malloc/mi_free".</summary>
    public string Functions { get; }

    /// <summary>The benchmark methods of this peer are named with this prefix ("Mimalloc"), in every scenario.</summary>
    public string MethodPrefix { get; }

    /// <summary>The library's handle, or 0 when it could not be loaded.</summary>
    public nint Handle { get; private set; }

    /// <summary>The version the library reports about itself ("2.0.9"), once loaded.</summary>
    public string? Version { get; internal set; }

    /// <summary>Why the peer cannot run, or null when it can.</summary>
    public string? Problem { get; private set; }

    public bool IsLoaded => Problem == null;

    /// <summary>"mimalloc 2.0.9 (libmimalloc.so.2, mi_malloc/mi_free)".</summary>
    public string Describe() => $"{Name}{(Version != null ? " " + Version : "")} ({Library}, {Functions})";

    /// <summary>The one console line printed for a peer that is skipped.</summary>
    public string SkipMessage => $"// {Name} skipped: {Problem}";

    /// <summary>Loads <paramref name="library"/>; on failure the peer records why, and every benchmark of it is skipped.</summary>
    public static NativePeer Load(string name, string package, string library, string functions, string methodPrefix)
    {
        var peer = new NativePeer(name, package, library, functions, methodPrefix);
        if (!OperatingSystem.IsLinux())
        {
            peer.Problem = $"{library} is a Linux library (this is {RuntimeInformation.OSDescription})";
            return peer;
        }
        try
        {
            peer.Handle = NativeLibrary.Load(library);
        }
        catch (DllNotFoundException e)
        {
            peer.Problem = e.Message.Contains("static TLS", StringComparison.Ordinal)
                ? $"{library} is installed but needs more static TLS than glibc reserves for libraries loaded at run time; "
                  + $"run with {StaticTls.Tunable} (the suite restarts itself with it when it can)"
                : $"{library} not found; install it with: apt-get install {package}";
        }
        catch (BadImageFormatException e)
        {
            peer.Problem = $"{library} could not be loaded ({e.Message}); reinstall it with: apt-get install --reinstall {package}";
        }
        return peer;
    }

    /// <summary>The address of <paramref name="symbol"/> in this library; a missing one makes the peer skipped.</summary>
    public nint Export(string symbol)
    {
        if (Handle == 0)
            return 0;
        if (NativeLibrary.TryGetExport(Handle, symbol, out nint address))
            return address;
        Problem = $"{Library} has no export '{symbol}' (a different build of {Name}?); reinstall it with: apt-get install --reinstall {Package}";
        return 0;
    }

    /// <summary>The address of <paramref name="symbol"/>, or 0 (the peer still runs): version and statistics functions.</summary>
    public nint Optional(string symbol) => Handle != 0 && NativeLibrary.TryGetExport(Handle, symbol, out nint address) ? address : 0;

    /// <summary>Throws, naming the peer and the package to install, when the peer cannot run.</summary>
    public void Require()
    {
        if (Problem != null)
            throw new InvalidOperationException($"native peer {Name}: {Problem}");
    }
}
