using System;
using System.Runtime.ConstrainedExecution;

namespace SlabGen.Core;

/// <summary>
/// Runs a callback on the finalizer thread after (roughly) every gen-2 GC, the way <c>ArrayPool&lt;T&gt;.Shared</c>
/// learns of memory pressure (CoreLib's <c>Gen2GcCallback</c>): an unreachable finalizable object whose finalizer
/// runs the callback and registers itself again. It is young at first, so the first call or two can follow a gen-0 or
/// gen-1 GC; once it has been promoted, only a gen-2 GC finalizes it.
/// </summary>
internal sealed class Gen2GcCallback : CriticalFinalizerObject
{
    private readonly Func<bool> _callback;

    private Gen2GcCallback(Func<bool> callback) => _callback = callback;

    /// <summary>Calls <paramref name="callback"/> at the next GC and after every gen-2 GC until it returns false.</summary>
    public static void Register(Func<bool> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        _ = new Gen2GcCallback(callback); // unreachable at once: the next GC finds it and queues its finalizer
    }

    ~Gen2GcCallback()
    {
        try
        {
            if (!_callback())
                return;
        }
        catch (Exception)
        {
            // A failing callback must not stop the callbacks, nor take down the finalizer thread.
        }
        GC.ReRegisterForFinalize(this);
    }
}
