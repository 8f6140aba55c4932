using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>One Larson run on one allocator: its blocks, its threads' generators, its thread lives.</summary>
public interface ILarson : IDisposable
{
    /// <summary>One thread life per slot: each slot's array goes to a new thread, which exits at the end.</summary>
    void Invoke();

    /// <summary>A line for the log: lives and operations so far.</summary>
    string Report(string peer);
}

/// <summary>
/// Larson and Krishnan's server benchmark ("Memory Allocation for Long-Running Server Applications", ISMM 1998) as
/// mimalloc-bench's <c>larson.cpp</c> runs it. Every slot owns an array of blocks; a thread working a slot repeatedly
/// frees a random block of the array and allocates a new one of a random size in its place, then exits, and a new
/// thread inherits the array. The blocks are all allocated by the benchmark thread first (larson's <c>warmup</c>),
/// so every thread frees blocks that other threads, some of them dead, allocated.
/// </summary>
public sealed unsafe class Larson<T> : ILarson where T : struct, IMalloc
{
    private readonly int _opsPerLife;
    private readonly int _minSize;
    private readonly int _range;
    private readonly nint[][] _arrays;
    private readonly Lran2[] _rgen;
    private readonly Exception?[] _errors;
    private readonly Thread[] _threads;
    private long _lives;

    /// <summary>
    /// larson's <c>runthreads</c> set-up: <paramref name="threads"/> slots of <paramref name="blocksPerThread"/> blocks,
    /// sizes <paramref name="minSize"/> + lran2 % (<paramref name="maxSize"/> - <paramref name="minSize"/>), each life
    /// <paramref name="rounds"/> × <paramref name="blocksPerThread"/> replacements.
    /// </summary>
    public Larson(int threads, int blocksPerThread, int rounds, int minSize, int maxSize, long seed)
    {
        T.Require();
        _opsPerLife = rounds * blocksPerThread;
        _minSize = minSize;
        _range = maxSize - minSize;
        _errors = new Exception?[threads];
        _threads = new Thread[threads];
        var rgen = new Lran2(seed);

        // warmup(): allocate every block, shuffle them, then replace four times as many at random.
        int total = threads * blocksPerThread;
        var blocks = new nint[total];
        for (int i = 0; i < total; i++)
            blocks[i] = Allocate(ref rgen);
        for (int c = total; c > 0; c--)
        {
            int victim = (int)(rgen.Next() % c);
            (blocks[victim], blocks[c - 1]) = (blocks[c - 1], blocks[victim]);
        }
        for (int c = 0; c < 4 * total; c++)
        {
            int victim = (int)(rgen.Next() % total);
            T.Free((void*)blocks[victim]);
            blocks[victim] = Allocate(ref rgen);
        }

        // Each slot: its share of the blocks and a generator seeded from the main one.
        _arrays = new nint[threads][];
        _rgen = new Lran2[threads];
        for (int s = 0; s < threads; s++)
        {
            _arrays[s] = blocks.AsSpan(s * blocksPerThread, blocksPerThread).ToArray();
            _rgen[s] = new Lran2(rgen.Next());
        }
    }

    // Inlined for every allocator alike: under Native AOT, T.Malloc's inlined fast path could otherwise push this out of Life.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private nint Allocate(ref Lran2 rgen)
    {
        nuint size = (nuint)(_minSize + rgen.Next() % _range);
        byte* p = (byte*)T.Malloc(size);
        p[0] = (byte)'a';
        p[1] = (byte)'b';
        return (nint)p;
    }

    public void Invoke()
    {
        for (int s = 0; s < _threads.Length; s++)
        {
            int slot = s;
            _threads[s] = new Thread(() => Life(slot)) { IsBackground = true, Name = $"larson-{slot}" };
            _threads[s].Start();
        }
        for (int s = 0; s < _threads.Length; s++)
            if (!_threads[s].Join(TimeSpan.FromMinutes(2)))
                throw new TimeoutException($"larson ({typeof(T).Name}): thread {s} did not finish its life within 2 minutes");
        _lives += _threads.Length;
        for (int s = 0; s < _errors.Length; s++)
            if (_errors[s] is { } e)
                throw new InvalidOperationException($"larson ({typeof(T).Name}): thread {s} failed: {e.Message}", e);
    }

    /// <summary>exercise_heap: free a random block of the slot's array and allocate a new one of a random size in its place.</summary>
    private void Life(int slot)
    {
        try
        {
            nint[] array = _arrays[slot];
            ref Lran2 rgen = ref _rgen[slot];
            for (int i = 0; i < _opsPerLife; i++)
            {
                int victim = (int)(rgen.Next() % array.Length);
                T.Free((void*)array[victim]);
                array[victim] = Allocate(ref rgen);
            }
        }
        catch (Exception e)
        {
            _errors[slot] = e;
        }
    }

    public string Report(string peer) =>
        $"// larson {peer}: {_lives} thread lives of {_opsPerLife:N0} operations each, {_arrays.Length * _arrays[0].Length:N0} blocks live";

    /// <summary>Frees every block still held, on the benchmark thread.</summary>
    public void Dispose()
    {
        foreach (nint[] array in _arrays)
            for (int i = 0; i < array.Length; i++)
            {
                T.Free((void*)array[i]);
                array[i] = 0;
            }
    }
}
