using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// The kernel's <c>stack_depot</c>: every distinct allocation or free stack is stored once, and an object's track keeps
/// a 32-bit handle to it. Stacks are taken with <see cref="StackTrace"/> and their frames named through
/// <see cref="DiagnosticMethodInfo"/>, which works under Native AOT when the binary keeps its stack trace data (the
/// default); without it a frame shows as its code address. Taking a stack costs microseconds, so
/// <see cref="SlabFlags.StoreUser"/> caches pay it on every allocation and free; it is always taken before any
/// allocator lock. Reading a stack back (<see cref="Fetch"/>) takes no lock at all.
/// </summary>
internal static class StackDepot
{
    /// <summary><c>TRACK_ADDRS_COUNT</c>: frames kept per stack.</summary>
    public const int MaxFrames = 16;

    /// <summary>Distinct stacks kept in all; beyond it a track has no stack (handle 0), as when the kernel's depot is full.</summary>
    public const int MaxStacks = 1 << 16;

    /// <summary>Guards <see cref="s_handles"/> and appends to <see cref="s_stacks"/>. A leaf: no allocator lock is ever taken under it, and it is never taken under one.</summary>
    private static readonly Lock s_lock = new();

    private static readonly Dictionary<StackKey, uint> s_handles = new();

    /// <summary>Each frame's text once, shared by every stack it appears in.</summary>
    private static readonly Dictionary<Frame, string> s_frameText = new();

    /// <summary>Stacks by handle ([0] is "none"); replaced whole when it grows, so readers need no lock.</summary>
    private static string[][] s_stacks = new string[64][];

    private static int s_count = 1;

    /// <summary>The frames of this thread's capture in progress, reused.</summary>
    [ThreadStatic] private static Frame[]? t_frames;

    /// <summary>The runtime's own assembly, by simple name: Native AOT names assemblies without culture and key.</summary>
    private static readonly string s_ownAssembly = typeof(StackDepot).Assembly.GetName().Name ?? "SlabGen";

    /// <summary>Stacks stored so far.</summary>
    public static int Count => Volatile.Read(ref s_count) - 1;

    /// <summary>
    /// <c>set_track_prepare</c> + <c>stack_depot_save</c>: the calling thread's stack from the first frame outside
    /// SlabGen, up to <see cref="MaxFrames"/> frames, as a handle (0 when the depot is full). Call with no allocator lock held.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static uint SaveCaller()
    {
        LockOrder.AssertNoneHeld();
        Frame[] frames = t_frames ??= new Frame[MaxFrames];
        int count = 0;
        var trace = new StackTrace(1, false);
        bool inside = true;
        for (int i = 0; i < trace.FrameCount && count < MaxFrames; i++)
        {
            StackFrame? frame = trace.GetFrame(i);
            if (frame == null)
                continue;
            DiagnosticMethodInfo? method = DiagnosticMethodInfo.Create(frame);
            if (inside && method != null && IsOwn(method.DeclaringAssemblyName))
                continue; // the allocator's own frames: the track starts at its caller, as stack_trace_save's skip does
            inside = false;
            frames[count++] = new Frame(method?.DeclaringTypeName, method?.Name, frame.GetNativeIP(), frame.GetNativeOffset());
        }
        var key = new StackKey(frames, count);
        using (s_lock.EnterScope())
        {
            if (s_handles.TryGetValue(key, out uint handle))
                return handle;
            if (s_count >= MaxStacks)
                return 0;
            handle = (uint)s_count;
            string[] text = new string[count];
            for (int i = 0; i < count; i++)
            {
                if (!s_frameText.TryGetValue(frames[i], out string? frame))
                    s_frameText.Add(frames[i], frame = frames[i].ToString());
                text[i] = frame;
            }
            string[][] stacks = s_stacks;
            if (handle == stacks.Length)
            {
                Array.Resize(ref stacks, stacks.Length * 2);
                Volatile.Write(ref s_stacks, stacks);
            }
            stacks[handle] = text;
            s_handles.Add(key.Copy(), handle);
            Volatile.Write(ref s_count, s_count + 1);
            return handle;
        }
    }

    /// <summary>True for SlabGen's own assembly, named <c>SlabGen, Version=...</c> (or plainly <c>SlabGen</c>).</summary>
    private static bool IsOwn(string? assembly)
        => assembly != null && assembly.StartsWith(s_ownAssembly, StringComparison.Ordinal)
            && (assembly.Length == s_ownAssembly.Length || assembly[s_ownAssembly.Length] == ',');

    /// <summary><c>stack_depot_fetch</c>: the frames of <paramref name="handle"/>, innermost first; none for 0.</summary>
    public static string[] Fetch(uint handle)
    {
        if (handle == 0)
            return Array.Empty<string>();
        string[][] stacks = Volatile.Read(ref s_stacks);
        return handle < stacks.Length && stacks[handle] is string[] frames ? frames : Array.Empty<string>();
    }

    /// <summary>One frame: its method when the runtime can name it, and where in its code; else its return address (Native AOT).</summary>
    private readonly record struct Frame(string? Type, string? Method, nint Ip, int Offset)
    {
        /// <summary>As the kernel's <c>%pS</c> prints a frame: <c>Namespace.Type.Method+0x1a</c>, or <c>0x7f...</c>.</summary>
        public override string ToString()
            => Method != null
                ? (Type != null ? $"{Type}.{Method}" : Method) + (Offset > 0 ? $"+0x{Offset:x}" : "")
                : Ip != 0 ? $"0x{Ip:x}" : "<unknown>"; // Native AOT without stack trace data: the return address
    }

    /// <summary>A stack as a dictionary key, compared frame by frame.</summary>
    private readonly struct StackKey : IEquatable<StackKey>
    {
        private readonly Frame[] _frames;
        private readonly int _count;
        private readonly int _hash;

        public StackKey(Frame[] frames, int count)
        {
            _frames = frames;
            _count = count;
            var hash = new HashCode();
            for (int i = 0; i < count; i++)
                hash.Add(frames[i]);
            _hash = hash.ToHashCode();
        }

        private StackKey(Frame[] frames, int count, int hash) => (_frames, _count, _hash) = (frames, count, hash);

        /// <summary>A key that owns its frames (the capture buffer is reused).</summary>
        public StackKey Copy() => new(_frames.AsSpan(0, _count).ToArray(), _count, _hash);

        public bool Equals(StackKey other)
            => _hash == other._hash && _frames.AsSpan(0, _count).SequenceEqual(other._frames.AsSpan(0, other._count));

        public override bool Equals(object? obj) => obj is StackKey other && Equals(other);

        public override int GetHashCode() => _hash;
    }
}
