using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// Where damage reports go (<c>slab_bug</c>, <c>slab_err</c>, <c>object_err</c>, <c>slab_fix</c>): a report found under
/// a lock is queued on the finding thread and emitted by <see cref="Flush"/> once that thread has released every
/// allocator lock, so that neither the writer nor an event handler ever runs inside the allocator.
/// </summary>
internal static class SlabErrors
{
    [ThreadStatic] private static List<SlabError>? t_pending;

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

    /// <summary>Builds a report in the kernel's form and queues it for <see cref="Flush"/>.</summary>
    public static void Report(string cache, SlabErrorKind kind, nuint slab, nuint obj, string summary, string[] info, string fix)
    {
        var text = new StringBuilder();
        text.Append("=============================================================================\n");
        text.Append("BUG ").Append(cache).Append(" (Not tainted): ").Append(summary).Append('\n');
        text.Append("-----------------------------------------------------------------------------\n\n");
        foreach (string line in info)
            text.Append("INFO: ").Append(line).Append('\n');
        text.Append("FIX ").Append(cache).Append(": ").Append(fix).Append('\n');
        (t_pending ??= new List<SlabError>()).Add(new SlabError(cache, kind, slab, obj, summary, text.ToString()));
        Interlocked.Increment(ref s_count);
    }

    /// <summary>Emits what this thread has queued. Call with no allocator lock held.</summary>
    public static void Flush()
    {
        List<SlabError>? pending = t_pending;
        if (pending == null || pending.Count == 0)
            return;
        SlabError[] errors = pending.ToArray();
        pending.Clear();
        foreach (SlabError e in errors)
        {
            TextWriter? writer = Writer;
            if (writer != null)
            {
                try
                {
                    lock (s_writeLock)
                    {
                        writer.Write(e.Report);
                        writer.Flush();
                    }
                }
                catch (IOException) { }
                catch (ObjectDisposedException) { }
            }
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
