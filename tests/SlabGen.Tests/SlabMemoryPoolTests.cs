using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SlabGen.Tests;

public class SlabMemoryPoolTests
{
    private static SlabMemoryPool NewPool(int blockSize = 4096, int max = 0, int quarantine = SlabMemoryPool.DefaultQuarantine)
        => new(new SlabMemoryPoolOptions { BlockSize = blockSize, MaxBufferSize = max, Name = TestSupport.Name($"pool{blockSize}"), Quarantine = quarantine });

    private static unsafe byte* AddressOf(IMemoryOwner<byte> owner)
    {
        using MemoryHandle handle = owner.Memory.Pin();
        return (byte*)handle.Pointer;
    }

    [Fact]
    public unsafe void Rent_hands_out_whole_4k_blocks_of_the_pools_own_cache()
    {
        using var pool = new SlabMemoryPool();
        Assert.Equal(4096, SlabMemoryPool.DefaultBlockSize);
        Assert.Equal(4096, pool.BlockSize);
        Assert.Equal(4096, pool.MaxBufferSize);
        Assert.StartsWith("memorypool-4k", pool.Name);
        Assert.Contains("\n" + pool.Name + " ", SlabInfo.Read());
        Assert.Equal(4096, pool.Cache.ObjectSize);

        var owners = new List<IMemoryOwner<byte>> { pool.Rent(), pool.Rent(-1), pool.Rent(0), pool.Rent(1), pool.Rent(4096) };
        foreach (IMemoryOwner<byte> owner in owners)
        {
            Assert.Equal(4096, owner.Memory.Length);
            byte* p = AddressOf(owner);
            Assert.True(pool.Cache.Contains(p));
            Assert.Equal(0, (long)p % 4096); // 4 KiB objects of size-aligned slabs: page aligned
            owner.Memory.Span.Fill(0xA5);
        }
        Assert.Equal(owners.Count, pool.Rented);
        foreach (IMemoryOwner<byte> owner in owners)
            owner.Dispose();
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void Requests_above_MaxBufferSize_and_negative_sizes_are_refused()
    {
        using SlabMemoryPool pool = NewPool();
        var tooLarge = Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(4097));
        Assert.Equal("minBufferSize", tooLarge.ParamName);
        Assert.Contains(pool.Name, tooLarge.Message);
        Assert.Contains("4096", tooLarge.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(-2));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(int.MinValue));
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public unsafe void Requests_above_the_block_size_come_from_kmalloc_up_to_the_maximum()
    {
        using SlabMemoryPool pool = NewPool(max: 64 * 1024);
        using (IMemoryOwner<byte> mid = pool.Rent(5000))
        {
            Assert.Equal(8192, mid.Memory.Length); // kmalloc-8k
            Assert.True(Kmalloc.CacheFor(8192).Contains(AddressOf(mid)));
            mid.Memory.Span.Fill(1);
        }
        using (IMemoryOwner<byte> large = pool.Rent(20_000))
        {
            Assert.Equal(32768, large.Memory.Length); // a large kmalloc block of 8 pages
            Assert.Equal(32768, (int)Kmalloc.Ksize(AddressOf(large)));
            large.Memory.Span.Fill(2);
        }
        using (IMemoryOwner<byte> block = pool.Rent(4096))
            Assert.True(pool.Cache.Contains(AddressOf(block)));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(64 * 1024 + 1));
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void Bad_options_are_refused_with_the_pool_named()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabMemoryPool(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabMemoryPool(Kmalloc.MaxSize + 1));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SlabMemoryPool(new SlabMemoryPoolOptions { Name = "bad_pool", BlockSize = 4096, MaxBufferSize = 1024 }));
        Assert.Contains("bad_pool", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabMemoryPool(new SlabMemoryPoolOptions { MaxBufferSize = Kmalloc.MaxSize + 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlabMemoryPool(new SlabMemoryPoolOptions { Quarantine = -1 }));
        Assert.Throws<ArgumentException>(() => new SlabMemoryPool(new SlabMemoryPoolOptions { Name = "kmalloc-64" }));
    }

    [Fact]
    public void Pools_name_their_caches_by_block_size_and_count_up()
    {
        using var a = new SlabMemoryPool();
        using var b = new SlabMemoryPool();
        using var odd = new SlabMemoryPool(1500);
        using var big = new SlabMemoryPool(16 * 1024);
        Assert.NotEqual(a.Name, b.Name);
        Assert.Matches("^memorypool-4k(-[0-9]+)?$", a.Name);
        Assert.Matches("^memorypool-4k-[0-9]+$", b.Name);
        Assert.Matches("^memorypool-1500(-[0-9]+)?$", odd.Name);
        Assert.Matches("^memorypool-16k(-[0-9]+)?$", big.Name);
        string info = SlabInfo.Read();
        foreach (SlabMemoryPool p in new[] { a, b, odd, big })
            Assert.Contains("\n" + p.Name + " ", info);
    }

    [Fact]
    public unsafe void Pin_gives_the_blocks_address_and_the_memory_never_moves()
    {
        using SlabMemoryPool pool = NewPool();
        using IMemoryOwner<byte> owner = pool.Rent();
        Memory<byte> memory = owner.Memory;
        fixed (byte* spanAddress = memory.Span)
        {
            using MemoryHandle first = memory.Pin();
            using MemoryHandle second = memory.Slice(10).Pin();
            Assert.Equal((nint)spanAddress, (nint)first.Pointer);
            Assert.Equal((nint)spanAddress + 10, (nint)second.Pointer);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => ((MemoryManager<byte>)owner).Pin(4097));
        nint before = (nint)AddressOf(owner);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        Assert.Equal(before, (nint)AddressOf(owner));
        Assert.False(MemoryMarshal.TryGetArray<byte>(memory, out _)); // native memory: no array behind it
    }

    [Fact]
    public void Dispose_twice_or_use_after_dispose_throws_ObjectDisposedException_and_frees_once()
    {
        using SlabMemoryPool pool = NewPool();
        IMemoryOwner<byte> owner = pool.Rent();
        Memory<byte> memory = owner.Memory;
        long frees = pool.Cache.GetStatistics().Frees;
        owner.Dispose();
        Assert.Equal(frees + 1, pool.Cache.GetStatistics().Frees);

        var again = Assert.Throws<ObjectDisposedException>(owner.Dispose);
        Assert.Equal(pool.Name, again.ObjectName);
        Assert.Contains(pool.Name, again.Message);
        Assert.Throws<ObjectDisposedException>(() => owner.Memory);
        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => memory.Pin());
        Assert.Throws<ObjectDisposedException>(() => memory.Slice(1).ToArray());
        Assert.Equal(frees + 1, pool.Cache.GetStatistics().Frees);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void A_stale_owner_is_refused_until_the_quarantine_hands_it_out_again()
    {
        const int Quarantine = 8;
        using SlabMemoryPool pool = NewPool(quarantine: Quarantine);
        IMemoryOwner<byte> stale = pool.Rent();
        Memory<byte> staleMemory = stale.Memory;
        stale.Dispose();
        long frees = pool.Cache.GetStatistics().Frees;

        // Renters after it get other owners, and the stale reference stays refused, while Quarantine others are
        // returned after it; none of the refused calls frees anything.
        for (int i = 0; i < Quarantine; i++)
        {
            IMemoryOwner<byte> next = pool.Rent();
            Assert.NotSame(stale, next);
            Assert.Throws<ObjectDisposedException>(stale.Dispose);
            Assert.Throws<ObjectDisposedException>(() => staleMemory.Span[0] = 1);
            Assert.Equal(4096, next.Memory.Length);
            next.Memory.Span[0] = 2;
            next.Dispose();
        }
        Assert.Equal(frees + Quarantine, pool.Cache.GetStatistics().Frees);
        Assert.Equal(Quarantine + 1, pool.Owners);

        // With Quarantine owners returned after it, the oldest owner is handed out again: from here on a stale
        // reference to it cannot be told from its new renter's (what the docs say). The pool made no new owner.
        IMemoryOwner<byte> reused = pool.Rent();
        Assert.Same(stale, reused);
        Assert.Equal(Quarantine + 1, pool.Owners);
        reused.Dispose();
    }

    [Fact]
    public void The_quarantine_is_per_returning_thread_and_an_exited_threads_quarantined_owners_are_never_reused()
    {
        const int Quarantine = 8;
        using SlabMemoryPool pool = NewPool(quarantine: Quarantine);
        // A thread rents and returns Quarantine + 3 owners, then exits: 3 have served their quarantine (ready), the
        // last Quarantine are still waiting in its magazine.
        var returned = new List<IMemoryOwner<byte>>();
        var worker = new Thread(() =>
        {
            var held = new IMemoryOwner<byte>[Quarantine + 3];
            for (int i = 0; i < held.Length; i++)
                held[i] = pool.Rent();
            for (int i = 0; i < held.Length; i++)
            {
                returned.Add(held[i]);
                held[i].Dispose();
            }
        });
        worker.Start();
        Assert.True(worker.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(Quarantine + 3, pool.Owners);
        Assert.Equal(0, pool.Rented);

        // This thread's first rent registers its magazine, which drains the exited thread's: the 3 ready owners go
        // to the depot and are handed out, the Quarantine waiting ones are dropped.
        var rented = new List<IMemoryOwner<byte>>();
        for (int i = 0; i < 3; i++)
            rented.Add(pool.Rent());
        Assert.Equal(3, pool.Owners);
        Assert.Equal(returned.GetRange(0, 3), rented, ReferenceEqualityComparer.Instance);

        // A dropped owner stays refused, however many rents and returns follow.
        for (int i = 0; i < 4 * pool.MagazineCapacity; i++)
        {
            IMemoryOwner<byte> next = pool.Rent();
            for (int j = 3; j < returned.Count; j++)
                Assert.NotSame(returned[j], next);
            next.Dispose();
        }
        foreach (IMemoryOwner<byte> owner in rented)
            owner.Dispose();
        for (int j = 3; j < returned.Count; j++)
            Assert.Throws<ObjectDisposedException>(() => returned[j].Memory);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void Threads_that_come_and_go_share_no_block_and_strand_no_owners()
    {
        using SlabMemoryPool pool = NewPool(quarantine: 8);
        const int Generations = 40, Held = 24;
        long corrupt = 0;
        // Each generation: a thread rents Held blocks and stamps them, a second thread checks and returns them, and
        // both exit. Their magazines are drained when the next generation's threads register theirs.
        for (int g = 0; g < Generations; g++)
        {
            var handoff = new IMemoryOwner<byte>[Held];
            byte stamp = (byte)(g + 1);
            var renter = new Thread(() =>
            {
                for (int i = 0; i < Held; i++)
                {
                    handoff[i] = pool.Rent();
                    handoff[i].Memory.Span.Fill((byte)(stamp + i));
                }
            });
            renter.Start();
            Assert.True(renter.Join(TimeSpan.FromSeconds(30)));
            var returner = new Thread(() =>
            {
                for (int i = 0; i < Held; i++)
                {
                    if (handoff[i].Memory.Span.IndexOfAnyExcept((byte)(stamp + i)) >= 0)
                        Interlocked.Increment(ref corrupt);
                    handoff[i].Dispose();
                }
            });
            returner.Start();
            Assert.True(returner.Join(TimeSpan.FromSeconds(30)));
            Assert.Equal(0, pool.Rented);
        }
        Assert.Equal(0, corrupt);
        // Only the last generation's two magazines may still hold owners (the exited threads before them were
        // drained: ready owners reused, quarantined ones dropped); everything else was reused, not remade.
        pool.Rent().Dispose(); // registers this thread's magazine, which drains the last generation's
        Assert.True(pool.Owners <= Held + pool.MagazineCapacity, $"{pool.Owners} owners");
        SlabStatistics stats = pool.Cache.GetStatistics();
        Assert.Equal(stats.Allocations, stats.Frees);
    }

    [Fact]
    public void Two_threads_disposing_one_owner_free_its_block_once()
    {
        using SlabMemoryPool pool = NewPool(quarantine: 0);
        const int Rounds = 500;
        IMemoryOwner<byte>? current = null;
        int refused = 0;
        using var start = new Barrier(2);
        using var done = new Barrier(2);
        long frees = pool.Cache.GetStatistics().Frees;
        var other = new Thread(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                if (!start.SignalAndWait(TimeSpan.FromSeconds(30)))
                    return;
                try { current!.Dispose(); } catch (ObjectDisposedException) { Interlocked.Increment(ref refused); }
                if (!done.SignalAndWait(TimeSpan.FromSeconds(30)))
                    return;
            }
        }) { IsBackground = true };
        other.Start();
        for (int i = 0; i < Rounds; i++)
        {
            current = pool.Rent();
            Assert.True(start.SignalAndWait(TimeSpan.FromSeconds(30)));
            try { current.Dispose(); } catch (ObjectDisposedException) { Interlocked.Increment(ref refused); }
            Assert.True(done.SignalAndWait(TimeSpan.FromSeconds(30)));
        }
        Assert.True(other.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(Rounds, refused);
        Assert.Equal(frees + Rounds, pool.Cache.GetStatistics().Frees);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public void Threads_renting_and_returning_at_once_never_share_a_block()
    {
        using SlabMemoryPool pool = NewPool(max: 16 * 1024, quarantine: 4);
        const int Threads = 4, Rounds = 5000;
        int[] sizes = { -1, 0, 100, 4096, 5000, 12_000 };
        long corrupt = 0;
        var workers = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                var held = new IMemoryOwner<byte>[4];
                var random = new Random(id);
                for (int round = 0; round < Rounds; round++)
                {
                    int count = 1 + random.Next(held.Length);
                    byte stamp = (byte)(id * 64 + round);
                    for (int i = 0; i < count; i++)
                    {
                        held[i] = pool.Rent(sizes[random.Next(sizes.Length)]);
                        held[i].Memory.Span.Fill((byte)(stamp + i));
                    }
                    Thread.Yield();
                    for (int i = 0; i < count; i++)
                    {
                        if (held[i].Memory.Span.IndexOfAnyExcept((byte)(stamp + i)) >= 0)
                            Interlocked.Increment(ref corrupt);
                        held[i].Dispose();
                    }
                }
            }) { IsBackground = true };
            workers[t].Start();
        }
        foreach (Thread worker in workers)
            Assert.True(worker.Join(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, corrupt);
        Assert.Equal(0, pool.Rented);
        SlabStatistics stats = pool.Cache.GetStatistics();
        Assert.Equal(stats.Allocations, stats.Frees);
    }

    [Fact]
    public void Blocks_rented_on_one_thread_and_returned_on_another_all_come_back()
    {
        using SlabMemoryPool pool = NewPool();
        const int Count = 20_000;
        using var queue = new System.Collections.Concurrent.BlockingCollection<IMemoryOwner<byte>>(boundedCapacity: 128);
        long bad = 0;
        var consumer = new Thread(() =>
        {
            for (int i = 0; i < Count; i++)
            {
                if (!queue.TryTake(out IMemoryOwner<byte>? owner, TimeSpan.FromSeconds(30)))
                    return;
                if (BitConverter.ToInt32(owner.Memory.Span) != i)
                    Interlocked.Increment(ref bad);
                owner.Dispose();
            }
        }) { IsBackground = true };
        consumer.Start();
        for (int i = 0; i < Count; i++)
        {
            IMemoryOwner<byte> owner = pool.Rent();
            BitConverter.TryWriteBytes(owner.Memory.Span, i);
            Assert.True(queue.TryAdd(owner, TimeSpan.FromSeconds(30)));
        }
        Assert.True(consumer.Join(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, bad);
        Assert.Equal(0, pool.Rented);
        // A new owner is made only when the producer's magazine and the depot are empty: the rest are in flight
        // (the queue and one at each end) or in the consumer's magazine.
        Assert.True(pool.Owners <= 128 + 2 + pool.MagazineCapacity, $"{pool.Owners} owners");
    }

    [Fact]
    public void Renting_and_returning_allocate_no_managed_memory_once_warm()
    {
        using SlabMemoryPool pool = NewPool();
        var held = new IMemoryOwner<byte>[4];
        void Round()
        {
            for (int i = 0; i < held.Length; i++)
                held[i] = pool.Rent();
            for (int i = 0; i < held.Length; i++)
                held[i].Dispose();
            pool.Rent(100).Dispose();
        }
        for (int i = 0; i < 2000; i++)
            Round(); // owners made, the queue's segment grown, the cache's magazine installed
        TestSupport.AssertNoManagedAllocation(Round, 10_000);
        Assert.Equal(0, pool.Rented);
        Assert.True(pool.Owners <= held.Length + 1 + SlabMemoryPool.DefaultQuarantine, $"{pool.Owners} owners");
    }

    [Fact]
    public void Disposing_the_pool_is_refused_while_a_block_is_rented_then_destroys_its_cache()
    {
        SlabMemoryPool pool = NewPool();
        IMemoryOwner<byte> owner = pool.Rent();
        var refused = Assert.Throws<InvalidOperationException>(pool.Dispose);
        Assert.Contains(pool.Name, refused.Message);
        Assert.Contains("1 block is still rented", refused.Message);
        Assert.False(pool.IsDisposed);
        pool.Rent().Dispose(); // still usable

        owner.Dispose();
        string name = pool.Name;
        pool.Dispose();
        Assert.True(pool.IsDisposed);
        Assert.True(pool.Cache.IsDisposed);
        Assert.Null(SlabAllocator.Find(name));
        var disposed = Assert.Throws<ObjectDisposedException>(() => pool.Rent());
        Assert.Contains(name, disposed.Message);
        Assert.Throws<ObjectDisposedException>(owner.Dispose);
        pool.Dispose(); // twice is fine
    }

    [Fact]
    public void Shared_is_one_4k_pool_that_ignores_Dispose()
    {
        SlabMemoryPool shared = SlabMemoryPool.Shared;
        Assert.Same(shared, SlabMemoryPool.Shared);
        Assert.StartsWith("memorypool-4k", shared.Name);
        shared.Dispose();
        Assert.False(shared.IsDisposed);
        using IMemoryOwner<byte> owner = shared.Rent();
        Assert.Equal(4096, owner.Memory.Length);
        Assert.NotSame(MemoryPool<byte>.Shared, shared);
    }

    [Fact]
    public async Task A_pipe_on_the_pool_moves_data_and_gives_every_block_back()
    {
        using SlabMemoryPool pool = NewPool();
        var pipe = new Pipe(new PipeOptions(pool: pool, minimumSegmentSize: 4096, pauseWriterThreshold: 0, useSynchronizationContext: false));
        const int Total = 256 * 1024;
        var sent = new byte[Total];
        new Random(7).NextBytes(sent);
        var received = new byte[Total];

        Task writer = Task.Run(async () =>
        {
            for (int offset = 0; offset < Total;)
            {
                int n = Math.Min(3000, Total - offset);
                sent.AsSpan(offset, n).CopyTo(pipe.Writer.GetSpan(n));
                pipe.Writer.Advance(n);
                offset += n;
                await pipe.Writer.FlushAsync();
            }
            await pipe.Writer.CompleteAsync();
        });
        int got = 0;
        while (true)
        {
            ReadResult result = await pipe.Reader.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                Assert.Equal(4096, MemoryMarshal.TryGetMemoryManager<byte, MemoryManager<byte>>(segment, out MemoryManager<byte>? manager) ? manager!.Memory.Length : 0);
                segment.Span.CopyTo(received.AsSpan(got));
                got += segment.Length;
            }
            pipe.Reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
                break;
        }
        await pipe.Reader.CompleteAsync();
        await writer.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Total, got);
        Assert.Equal(sent, received);
        Assert.True(pool.Cache.GetStatistics().Allocations > 0);
        Assert.Equal(0, pool.Rented);
    }
}

/// <summary>Red-zoned pools report to the process-wide error writer: these tests run alone.</summary>
[Collection(SerialCollection.Name)]
public unsafe class SlabMemoryPoolDebugTests
{
    [Fact]
    public void A_red_zoned_pool_reports_a_write_past_the_block_when_it_comes_back()
    {
        using var pool = new SlabMemoryPool(new SlabMemoryPoolOptions
        {
            Name = TestSupport.Name("pool_rz"),
            Flags = SlabFlags.RedZone | SlabFlags.ConsistencyChecks,
        });
        Assert.True(pool.Cache.IsDebug);
        var errors = new List<SlabError>();
        void OnError(SlabError e) { if (e.CacheName == pool.Name) lock (errors) errors.Add(e); }
        System.IO.TextWriter? old = SlabAllocator.ErrorWriter;
        SlabAllocator.ErrorWriter = System.IO.TextWriter.Null;
        SlabAllocator.ErrorReported += OnError;
        try
        {
            // In bounds: many rents and returns, nothing reported, and the debug cache's checked path frees each block.
            for (int i = 0; i < 100; i++)
            {
                IMemoryOwner<byte> owner = pool.Rent();
                owner.Memory.Span.Fill((byte)i);
                owner.Dispose();
            }
            Assert.Empty(errors);
            Assert.Equal(0, pool.Rented);

            // One byte past the block (through a bare pointer, as a Span cannot) is found when the block comes back.
            IMemoryOwner<byte> overflowing = pool.Rent();
            using (MemoryHandle pin = overflowing.Memory.Pin())
                ((byte*)pin.Pointer)[pool.BlockSize] = 0x42;
            overflowing.Dispose();
            Assert.Single(errors);
            Assert.Equal(SlabErrorKind.RedzoneOverwritten, errors[0].Kind);
            Assert.Equal(0, pool.Rented);
        }
        finally
        {
            SlabAllocator.ErrorReported -= OnError;
            SlabAllocator.ErrorWriter = old;
        }
        Assert.Throws<ArgumentException>(() => new SlabMemoryPool(new SlabMemoryPoolOptions { Name = TestSupport.Name("pool_merge"), Flags = SlabFlags.Merge }));
    }
}
