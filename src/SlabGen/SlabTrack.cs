using System;
using System.Collections.Generic;
using System.Globalization;

namespace SlabGen;

/// <summary>
/// Who last allocated or freed an object of a <see cref="SlabFlags.StoreUser"/> cache (the kernel's <c>struct track</c>):
/// the stack (up to 16 frames, innermost first, from the first frame outside SlabGen), the managed thread, the CPU, and
/// how long ago.
/// </summary>
public sealed class SlabTrack
{
    internal SlabTrack(IReadOnlyList<string> stack, int cpu, int threadId, TimeSpan age)
    {
        Stack = stack;
        Cpu = cpu;
        ThreadId = threadId;
        Age = age;
    }

    /// <summary>The frame that called into SlabGen (<c>Namespace.Type.Method+0x1a</c>), or null when no stack was kept.</summary>
    public string? Caller => Stack.Count > 0 ? Stack[0] : null;

    /// <summary>The frames, innermost first; empty when the stack depot was full.</summary>
    public IReadOnlyList<string> Stack { get; }

    /// <summary>The CPU the operation ran on.</summary>
    public int Cpu { get; }

    /// <summary>The managed thread id (<see cref="Environment.CurrentManagedThreadId"/>) of the thread that did it.</summary>
    public int ThreadId { get; }

    /// <summary>How long before the track was read the operation happened.</summary>
    public TimeSpan Age { get; }

    /// <summary>As a report's line says it: <c>Namespace.Type.Method+0x1a age=12 cpu=1 pid=5</c> (age in milliseconds).</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Caller ?? "<unknown>"} age={(long)Age.TotalMilliseconds} cpu={Cpu} pid={ThreadId}");
}
