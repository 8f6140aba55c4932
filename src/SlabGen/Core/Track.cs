using System;
using System.Runtime.InteropServices;
using System.Text;

namespace SlabGen.Core;

/// <summary>Which of an object's two tracks (<c>enum track_item</c>).</summary>
internal enum TrackItem
{
    Alloc = 0,
    Free = 1,
}

/// <summary>
/// The kernel's <c>struct track</c>, kept in each object's slot of a <see cref="SlabFlags.StoreUser"/> cache after the
/// free pointer: who last allocated (and last freed) the object. The caller's address is the first frame of the stack
/// the handle names in the <see cref="StackDepot"/>; <c>pid</c> is the managed thread id, <c>when</c> milliseconds of
/// <see cref="Environment.TickCount64"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Track
{
    /// <summary>Bytes of one track in a slot.</summary>
    public const int Size = 24;

    /// <summary>The stack in the depot; 0 when none was taken.</summary>
    public uint Handle;

    /// <summary>The CPU the operation ran on.</summary>
    public int Cpu;

    /// <summary>The managed thread id (the kernel's <c>pid</c> of the task).</summary>
    public int Pid;

    /// <summary>1 once the track has been set (the kernel tests <c>addr</c>).</summary>
    public int Set;

    /// <summary><see cref="Environment.TickCount64"/> at the operation.</summary>
    public long When;

    /// <summary><c>get_track</c>: the track of <paramref name="obj"/> in a cache laid out by <paramref name="layout"/>.</summary>
    public static unsafe Track* Of(in SlabLayout layout, byte* obj, TrackItem item) => (Track*)(obj + layout.InfoEnd) + (int)item;

    /// <summary><c>set_track_update</c>.</summary>
    public static unsafe void Update(Track* t, uint handle, int cpu)
    {
        t->Handle = handle;
        t->Cpu = cpu;
        t->Pid = Environment.CurrentManagedThreadId;
        t->Set = 1;
        t->When = Environment.TickCount64;
    }

    /// <summary><c>init_tracking</c>: both tracks cleared.</summary>
    public static unsafe void Init(in SlabLayout layout, byte* obj) => new Span<byte>(obj + layout.InfoEnd, 2 * Size).Clear();

    /// <summary>The track as the public <see cref="SlabTrack"/>, or null when it was never set.</summary>
    public readonly SlabTrack? ToSlabTrack(long now)
        => Set == 0 ? null : new SlabTrack(Array.AsReadOnly(StackDepot.Fetch(Handle)), Cpu, Pid, TimeSpan.FromMilliseconds(now - When));

    /// <summary>
    /// <c>print_track</c>: <c>Allocated in &lt;caller&gt; age=&lt;ms&gt; cpu=&lt;n&gt; pid=&lt;n&gt;</c> as an INFO line and
    /// the stack below it, one frame a line; nothing when the track was never set.
    /// </summary>
    public readonly void Print(SlabReport report, string what, long now)
    {
        if (Set == 0)
            return;
        string[] frames = StackDepot.Fetch(Handle);
        report.Info($"{what} in {(frames.Length > 0 ? frames[0] : "<unknown>")} age={now - When} cpu={Cpu} pid={Pid}");
        if (frames.Length == 0)
            report.Raw(" object allocation/free stack trace missing");
        foreach (string frame in frames)
            report.Raw(" " + frame);
    }

    /// <summary>One line for an exception message: <c>allocated in X age=.. cpu=.. pid=..</c> and the frames, indented.</summary>
    public readonly void Describe(StringBuilder text, string what, long now, string indent)
    {
        if (Set == 0)
            return;
        string[] frames = StackDepot.Fetch(Handle);
        text.Append(what).Append(" in ").Append(frames.Length > 0 ? frames[0] : "<unknown>")
            .Append(" age=").Append(now - When).Append(" cpu=").Append(Cpu).Append(" pid=").Append(Pid);
        for (int i = 1; i < frames.Length; i++)
            text.Append('\n').Append(indent).Append(frames[i]);
    }
}
