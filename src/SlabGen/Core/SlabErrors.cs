using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// Where damage reports go (<c>slab_bug</c>, <c>slab_err</c>, <c>object_err</c>, <c>slab_fix</c>, built by
/// <see cref="SlabReport"/>) and the trace lines of <see cref="SlabFlags.Trace"/>: what is found under a lock is queued on
/// the finding thread and emitted by <see cref="Flush"/> once that thread has released every allocator lock, so that
/// neither the writer nor an event handler ever runs inside the allocator.
/// </summary>
internal static class SlabErrors
{
    /// <summary>A report (raised as <see cref="Reported"/> too) or a trace line (written only).</summary>
    private readonly record struct Pending(SlabError? Error, string Text);

    [ThreadStatic] private static List<Pending>? t_pending;

    private static readonly Lock s_writeLock = new();
    private static long s_count;
    private static TextWriter? s_writer = Console.Error;

    /// <summary>Reports made since the process started.</summary>
    public static long Count => Interlocked.Read(ref s_count);

    public static TextWriter? Writer
    {
        get => Volatile.Read(ref s_writer);
        set => Volatile.Write(ref s_writer, value);
    }

    public static event Action<SlabError>? Reported;

    /// <summary>Builds a report in the kernel's form (a <c>BUG</c> line, <c>INFO</c> lines, a <c>FIX</c> line) and queues it for <see cref="Flush"/>.</summary>
    public static void Report(SlabCache cache, SlabErrorKind kind, nuint slab, nuint obj, string summary, string[] info, string fix)
    {
        var report = new SlabReport(cache, kind, summary) { Slab = slab, Object = obj };
        foreach (string line in info)
            report.Info(line);
        report.Fix(fix).Queue();
    }

    /// <summary>Queues a finished report (<see cref="SlabReport.Queue"/>).</summary>
    public static void Queue(SlabError error)
    {
        (t_pending ??= new List<Pending>()).Add(new Pending(error, error.Report));
        Interlocked.Increment(ref s_count);
    }

    /// <summary>Queues a trace line of <see cref="SlabFlags.Trace"/> (<c>trace</c>): written to <see cref="Writer"/>, not an error.</summary>
    public static void Trace(string text) => (t_pending ??= new List<Pending>()).Add(new Pending(null, text));

    /// <summary>Emits what this thread has queued. Call with no allocator lock held.</summary>
    public static void Flush()
    {
        List<Pending>? pending = t_pending;
        if (pending == null || pending.Count == 0)
            return;
        LockOrder.AssertNoneHeld();
        Pending[] items = pending.ToArray();
        pending.Clear();
        foreach ((SlabError? e, string text) in items)
        {
            TextWriter? writer = Writer;
            if (writer != null)
            {
                try
                {
                    lock (s_writeLock)
                    {
                        writer.Write(text);
                        writer.Flush();
                    }
                }
                catch (IOException) { }
                catch (ObjectDisposedException) { }
            }
            if (e == null)
                continue;
            Action<SlabError>? handlers = Reported;
            if (handlers == null)
                continue;
            foreach (Action<SlabError> handler in handlers.GetInvocationList())
            {
                try
                {
                    handler(e);
                }
                catch (Exception ex)
                {
                    // A handler runs inside an Alloc or Free that has already done its work: its exception must not
                    // lose the object being handed out, so it is written down instead of thrown.
                    try
                    {
                        Writer?.WriteLine($"SlabGen: an ErrorReported handler threw {ex.GetType().Name}: {ex.Message}");
                    }
                    catch (IOException) { }
                    catch (ObjectDisposedException) { }
                }
            }
        }
    }
}
