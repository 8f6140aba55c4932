using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.ObjectPool;
using SlabGen.Benchmarks.Infrastructure;

namespace SlabGen.Benchmarks.Scenarios;

/// <summary>
/// The benchmark thread allocates 64-byte objects and stamps them; a second thread takes them from a bounded
/// single-producer/single-consumer ring (1,024 slots, no allocation, no interlocked operation), checks the stamp and
/// frees them. Every object is freed on a thread other than the one that allocated it. Reported per object.
/// </summary>
[BenchmarkCategory("producer-consumer")]
public unsafe class ProducerConsumerBenchmarks
{
    public const int Ops = 100_000;
    private const int Size = 64;
    private const int RingSlots = 1024;

    private readonly SpscRing<nint> _pointers = new(RingSlots);
    private readonly SpscRing<byte[]> _arrays = new(RingSlots);
    private readonly SpscRing<Obj64> _objects = new(RingSlots);
    private Worker _consumer = null!;
    private SlabCache _cache = null!;
    private ObjectPool<Obj64> _pool = null!;
    private Action _freeNative = null!, _freeSlab = null!, _returnArray = null!, _returnPooled = null!, _dropObject = null!;
    private Action _freeGlibc = null!, _freeMimalloc = null!, _freeJemalloc = null!, _freeTcmalloc = null!;
    private long _badStamps, _slabInvocations;

    [GlobalSetup]
    public void Setup()
    {
        _consumer = new Worker("consumer");
        _cache = SlabCache.Create("bench_pc_64", Size, flags: SlabFlags.Panic)!;
        _pool = new DefaultObjectPool<Obj64>(new DefaultPooledObjectPolicy<Obj64>(), RingSlots + 64);
        _freeNative = FreeNative;
        _freeSlab = FreeSlab;
        _returnArray = ReturnArray;
        _returnPooled = ReturnPooled;
        _dropObject = DropObject;
        _freeGlibc = Consume<GlibcHeap>;
        _freeMimalloc = Consume<MimallocHeap>;
        _freeJemalloc = Consume<JemallocHeap>;
        _freeTcmalloc = Consume<TcmallocHeap>;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _consumer.Dispose();
        CacheReport.Print(_cache, _slabInvocations);
        _cache.Dispose();
    }

    private void Check()
    {
        _consumer.Wait();
        if (_badStamps != 0)
            throw new InvalidOperationException($"the consumer saw {_badStamps} objects with a wrong stamp");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public void NativeMemoryAllocFree()
    {
        _consumer.Start(_freeNative);
        SpscRing<nint> ring = _pointers;
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)NativeMemory.Alloc(Size);
            *p = i;
            ring.Enqueue((nint)p);
        }
        Check();
    }

    private void FreeNative()
    {
        SpscRing<nint> ring = _pointers;
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)ring.Dequeue();
            if (*p != i)
                _badStamps++;
            NativeMemory.Free(p);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void SlabGenCache()
    {
        _slabInvocations++;
        _consumer.Start(_freeSlab);
        SpscRing<nint> ring = _pointers;
        SlabCache cache = _cache;
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)cache.Alloc();
            *p = i;
            ring.Enqueue((nint)p);
        }
        Check();
    }

    private void FreeSlab()
    {
        SpscRing<nint> ring = _pointers;
        SlabCache cache = _cache;
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)ring.Dequeue();
            if (*p != i)
                _badStamps++;
            cache.Free(p);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GlibcDirect() => Produce<GlibcHeap>(_freeGlibc);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Mimalloc() => Produce<MimallocHeap>(_freeMimalloc);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Jemalloc() => Produce<JemallocHeap>(_freeJemalloc);

    [Benchmark(OperationsPerInvoke = Ops)]
    public void Tcmalloc() => Produce<TcmallocHeap>(_freeTcmalloc);

    /// <summary>The NativeMemory producer's loop on a native peer; <paramref name="consume"/> is <see cref="Consume{T}"/>.</summary>
    private void Produce<T>(Action consume) where T : struct, IMalloc
    {
        T.Require();
        _consumer.Start(consume);
        SpscRing<nint> ring = _pointers;
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)T.Malloc(Size);
            *p = i;
            ring.Enqueue((nint)p);
        }
        Check();
    }

    private void Consume<T>() where T : struct, IMalloc
    {
        SpscRing<nint> ring = _pointers;
        for (int i = 0; i < Ops; i++)
        {
            long* p = (long*)ring.Dequeue();
            if (*p != i)
                _badStamps++;
            T.Free(p);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ArrayPoolShared()
    {
        _consumer.Start(_returnArray);
        SpscRing<byte[]> ring = _arrays;
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int i = 0; i < Ops; i++)
        {
            byte[] a = pool.Rent(Size);
            Unsafe.As<byte, long>(ref a[0]) = i;
            ring.Enqueue(a);
        }
        Check();
    }

    private void ReturnArray()
    {
        SpscRing<byte[]> ring = _arrays;
        ArrayPool<byte> pool = ArrayPool<byte>.Shared;
        for (int i = 0; i < Ops; i++)
        {
            byte[] a = ring.Dequeue();
            if (Unsafe.As<byte, long>(ref a[0]) != i)
                _badStamps++;
            pool.Return(a);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void ObjectPoolDefault()
    {
        _consumer.Start(_returnPooled);
        SpscRing<Obj64> ring = _objects;
        ObjectPool<Obj64> pool = _pool;
        for (int i = 0; i < Ops; i++)
        {
            Obj64 o = pool.Get();
            o.Stamp = i;
            ring.Enqueue(o);
        }
        Check();
    }

    private void ReturnPooled()
    {
        SpscRing<Obj64> ring = _objects;
        ObjectPool<Obj64> pool = _pool;
        for (int i = 0; i < Ops; i++)
        {
            Obj64 o = ring.Dequeue();
            if (o.Stamp != i)
                _badStamps++;
            pool.Return(o);
        }
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public void GcNew()
    {
        _consumer.Start(_dropObject);
        SpscRing<Obj64> ring = _objects;
        for (int i = 0; i < Ops; i++)
            ring.Enqueue(new Obj64 { Stamp = i });
        Check();
    }

    private void DropObject()
    {
        SpscRing<Obj64> ring = _objects;
        for (int i = 0; i < Ops; i++)
            if (ring.Dequeue().Stamp != i)
                _badStamps++;
    }
}
