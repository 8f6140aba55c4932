using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace SlabGen.Tests;

public class SlabHandleTests
{
    private struct Order
    {
        public long Id;
        public int Quantity;
        public double Price;
    }

    /// <summary>Something that keeps a handle in a field, as a connection or a request object would.</summary>
    private sealed class Holder
    {
        public SlabHandle<Order> Order;
    }

    private static unsafe void AssertPointsIntoCache(SlabCache<Order> cache, SlabHandle<Order> handle, long id)
    {
        Assert.Equal(id, handle.Pointer->Id);
        Assert.True(cache.Cache.Contains(handle.Pointer));
    }

    private static unsafe SlabCache<Order> NewCache() => SlabCache<Order>.Create(TestSupport.Name("handle_order"));

    [Fact]
    public async Task A_handle_lives_in_a_field_and_across_await()
    {
        using SlabCache<Order> cache = NewCache();
        long frees = cache.Cache.GetStatistics().Frees;
        var holder = new Holder { Order = cache.RentHandle() };
        holder.Order.Value = new Order { Id = 7, Quantity = 3, Price = 1.5 };
        await Task.Yield();
        await Task.Delay(1);
        ref Order order = ref holder.Order.Value;
        order.Quantity++;
        Assert.Equal(4, holder.Order.Value.Quantity);
        AssertPointsIntoCache(cache, holder.Order, id: 7);
        Assert.Same(cache, holder.Order.Cache);
        Assert.True(holder.Order.IsAllocated);
        holder.Order.Dispose();
        Assert.False(holder.Order.IsAllocated);
        Assert.Equal(frees + 1, cache.Cache.GetStatistics().Frees);
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public unsafe void Every_copy_refuses_a_second_dispose_and_any_use_after_it()
    {
        using SlabCache<Order> cache = NewCache();
        SlabHandle<Order> handle = cache.RentHandle();
        SlabHandle<Order> copy = handle;
        object boxed = copy; // a copy boxed on the heap, as a state machine or a collection holds it
        long frees = cache.Cache.GetStatistics().Frees;
        handle.Dispose();

        var second = Assert.Throws<ObjectDisposedException>(copy.Dispose);
        Assert.Equal(cache.Name, second.ObjectName);
        Assert.Contains(cache.Name, second.Message);
        Assert.Throws<ObjectDisposedException>(handle.Dispose);
        Assert.Throws<ObjectDisposedException>(() => ((SlabHandle<Order>)boxed).Dispose());
        Assert.Throws<ObjectDisposedException>(() => copy.Value.Id);
        Assert.Throws<ObjectDisposedException>(() => (nint)copy.Pointer);
        Assert.False(copy.IsAllocated);
        Assert.False(((SlabHandle<Order>)boxed).IsAllocated);
        Assert.Equal(frees + 1, cache.Cache.GetStatistics().Frees);
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public unsafe void A_stale_copy_stays_refused_when_its_box_and_object_are_reused()
    {
        using SlabCache<Order> cache = NewCache();
        SlabHandle<Order> first = cache.RentHandle();
        SlabHandle<Order> stale = first;
        Order* address = first.Pointer;
        first.Dispose();

        SlabHandle<Order> next = cache.RentHandle(); // this thread's last box and the magazine's last object
        Assert.Same(stale.Box, next.Box);
        Assert.Equal((nint)address, (nint)next.Pointer);
        next.Value.Id = 42;
        long frees = cache.Cache.GetStatistics().Frees;

        Assert.Throws<ObjectDisposedException>(stale.Dispose);
        Assert.Throws<ObjectDisposedException>(() => stale.Value.Id = 1);
        Assert.True(next.IsAllocated);
        Assert.Equal(42, next.Value.Id);
        Assert.Equal(frees, cache.Cache.GetStatistics().Frees); // the stale dispose freed nothing
        TestSupport.AssertBalanced(cache.Cache, 1);
        next.Dispose();
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public void A_default_handle_holds_nothing()
    {
        SlabHandle<Order> none = default;
        Assert.False(none.IsAllocated);
        Assert.Null(none.Cache);
        Assert.Throws<InvalidOperationException>(() => none.Value.Id);
        none.Dispose(); // owns nothing, frees nothing
        Assert.Contains("none", none.ToString());
    }

    [Fact]
    public void Two_threads_disposing_copies_free_the_object_once()
    {
        using SlabCache<Order> cache = NewCache();
        const int Rounds = 500;
        SlabHandle<Order> current = default;
        int refused = 0;
        using var start = new Barrier(2);
        using var done = new Barrier(2);
        long frees = cache.Cache.GetStatistics().Frees;
        var other = new Thread(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                if (!start.SignalAndWait(TimeSpan.FromSeconds(30)))
                    return;
                SlabHandle<Order> copy = current;
                try { copy.Dispose(); } catch (ObjectDisposedException) { Interlocked.Increment(ref refused); }
                if (!done.SignalAndWait(TimeSpan.FromSeconds(30)))
                    return;
            }
        }) { IsBackground = true };
        other.Start();
        for (int i = 0; i < Rounds; i++)
        {
            current = cache.RentHandle();
            Assert.True(start.SignalAndWait(TimeSpan.FromSeconds(30)));
            try { current.Dispose(); } catch (ObjectDisposedException) { Interlocked.Increment(ref refused); }
            Assert.True(done.SignalAndWait(TimeSpan.FromSeconds(30)));
        }
        Assert.True(other.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(Rounds, refused);
        Assert.Equal(frees + Rounds, cache.Cache.GetStatistics().Frees);
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public void Handles_rented_on_one_thread_and_freed_on_another_all_come_back()
    {
        using SlabCache<Order> cache = NewCache();
        const int Count = 20_000;
        using var queue = new BlockingCollection<SlabHandle<Order>>(boundedCapacity: 256);
        long sum = 0;
        var consumer = new Thread(() =>
        {
            for (int i = 0; i < Count; i++)
            {
                if (!queue.TryTake(out SlabHandle<Order> h, TimeSpan.FromSeconds(30)))
                    return;
                sum += h.Value.Id;
                h.Dispose();
            }
        }) { IsBackground = true };
        consumer.Start();
        for (int i = 0; i < Count; i++)
        {
            SlabHandle<Order> h = cache.RentHandle();
            h.Value.Id = i;
            Assert.True(queue.TryAdd(h, TimeSpan.FromSeconds(30)));
        }
        Assert.True(consumer.Join(TimeSpan.FromSeconds(60)));
        Assert.Equal((long)Count * (Count - 1) / 2, sum);
        TestSupport.AssertBalanced(cache.Cache, 0);
    }

    [Fact]
    public void Renting_and_disposing_handles_allocates_no_managed_memory_once_warm()
    {
        using SlabCache<Order> cache = NewCache();
        var held = new SlabHandle<Order>[8];
        void Round()
        {
            for (int i = 0; i < held.Length; i++)
            {
                held[i] = cache.RentHandle();
                held[i].Value.Id = i;
            }
            for (int i = 0; i < held.Length; i++)
                held[i].Dispose();
        }
        for (int i = 0; i < 1000; i++)
            Round();
        TestSupport.AssertNoManagedAllocation(Round, 10_000);
        TestSupport.AssertBalanced(cache.Cache, 0);
    }
}
