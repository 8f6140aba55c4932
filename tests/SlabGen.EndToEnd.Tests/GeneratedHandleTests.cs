using System;
using System.Threading.Tasks;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>The generated <c>RentHandle()</c> and <c>Local()</c>, compiled by the generator running as an analyzer.</summary>
[Collection(CacheCollection.Name)]
public class GeneratedHandleTests
{
    private sealed class Session
    {
        public SlabHandle<E2eMessage> Last;
    }

    [Fact]
    public async Task RentHandle_gives_a_handle_that_lives_in_a_field_across_await_and_frees_once()
    {
        long frees = E2eMessage.Cache.Cache.GetStatistics().Frees;
        var session = new Session { Last = E2eMessage.RentHandle() };
        session.Last.Value = new E2eMessage(7, 2, 0.5);
        await Task.Yield();
        session.Last.Value.Kind = 3;
        Assert.Equal(new E2eMessage(7, 3, 0.5), session.Last.Value);
        Assert.Same(E2eMessage.Cache, session.Last.Cache);

        SlabHandle<E2eMessage> copy = session.Last;
        session.Last.Dispose();
        Assert.Equal(frees + 1, E2eMessage.Cache.Cache.GetStatistics().Frees);
        var refused = Assert.Throws<ObjectDisposedException>(copy.Dispose);
        Assert.Contains("e2e_message", refused.Message);
        Assert.Throws<ObjectDisposedException>(() => copy.Value.Id);
        Assert.Equal(frees + 1, E2eMessage.Cache.Cache.GetStatistics().Frees);
    }

    [Fact]
    public unsafe void Local_gives_a_thread_bound_handle_on_the_generated_cache()
    {
        SlabStatistics before = E2eMessage.Cache.Cache.GetStatistics();
        SlabLocal<E2eMessage> local = E2eMessage.Local();
        Assert.Same(E2eMessage.Cache.Cache, local.Cache);
        var held = new E2eMessage*[100];
        for (int i = 0; i < held.Length; i++)
        {
            held[i] = local.Alloc();
            *held[i] = new E2eMessage(i, 1, i * 0.5);
        }
        for (int i = 0; i < held.Length; i++)
        {
            Assert.Equal(new E2eMessage(i, 1, i * 0.5), *held[i]);
            local.Free(held[i]);
        }
        E2eMessage* p = E2eMessage.Alloc();
        local.Free(p); // the static face and the handle share the thread's magazine
        Assert.Throws<DoubleFreeException>(() => E2eMessage.Free(p));
        SlabStatistics after = E2eMessage.Cache.Cache.GetStatistics();
        Assert.Equal(101, after.Allocations - before.Allocations);
        Assert.Equal(101, after.Frees - before.Frees);
    }
}
