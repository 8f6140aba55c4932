using System;
using System.Diagnostics;
using System.Threading;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// A long-lived background thread that runs one job per benchmark invocation. Threads are not created per
/// invocation (that would cost ~100 µs and a fresh thread-local cache each time); between jobs the thread spins a
/// few milliseconds (BenchmarkDotNet's invocations follow each other closely) and then blocks.
/// </summary>
public sealed class Worker : IDisposable
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 200; // 5 ms

    private readonly Thread _thread;
    private readonly ManualResetEventSlim _wake = new(false, 1);
    private Action? _job;
    private int _generation;
    private int _finished;
    private volatile bool _stop;
    private Exception? _error;

    public Worker(string name)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Hands <paramref name="job"/> to the thread; returns at once.</summary>
    public void Start(Action job)
    {
        _job = job;
        Volatile.Write(ref _finished, 0);
        Interlocked.Increment(ref _generation);
        _wake.Set();
    }

    /// <summary>True once the job given to the last <see cref="Start"/> has returned.</summary>
    public bool IsDone => Volatile.Read(ref _finished) != 0;

    /// <summary>Spins until the current job is done; rethrows what it threw.</summary>
    public void Wait()
    {
        var spin = new SpinWait();
        while (Volatile.Read(ref _finished) == 0)
            spin.SpinOnce(sleep1Threshold: -1);
        if (_error is { } e)
        {
            _error = null;
            throw new InvalidOperationException($"worker '{_thread.Name}' failed: {e.Message}", e);
        }
    }

    private void Loop()
    {
        int seen = 0;
        while (true)
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            var spin = new SpinWait();
            while (Volatile.Read(ref _generation) == seen && !_stop)
            {
                if (Stopwatch.GetTimestamp() < deadline)
                    spin.SpinOnce(sleep1Threshold: -1);
                else
                {
                    _wake.Wait();
                    _wake.Reset();
                }
            }
            if (_stop)
                return;
            seen = Volatile.Read(ref _generation);
            _wake.Reset();
            try
            {
                _job!();
            }
            catch (Exception e)
            {
                _error = e;
            }
            Volatile.Write(ref _finished, 1);
        }
    }

    public void Dispose()
    {
        _stop = true;
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
    }
}
