using System;
using System.Threading;

namespace SlabGen.Core;

/// <summary>
/// Test hook in the spirit of the kernel's <c>failslab</c>: makes the calling thread's next native array
/// allocations fail, so tests can prove that <c>Tune</c> rolls back. Thread-local, so concurrent tests never see it.
/// </summary>
internal static class FaultInjection
{
    [ThreadStatic] private static int t_succeedBeforeFailure;
    [ThreadStatic] private static bool t_armed;

    /// <summary>Lets <paramref name="successes"/> more allocations on this thread succeed, then fails the rest until disposed.</summary>
    public static IDisposable FailAfter(int successes)
    {
        t_succeedBeforeFailure = successes;
        t_armed = true;
        return new Disarm();
    }

    public static bool ShouldFail()
    {
        if (!t_armed)
            return false;
        if (t_succeedBeforeFailure > 0)
        {
            t_succeedBeforeFailure--;
            return false;
        }
        return true;
    }

    private sealed class Disarm : IDisposable
    {
        public void Dispose() => t_armed = false;
    }
}
