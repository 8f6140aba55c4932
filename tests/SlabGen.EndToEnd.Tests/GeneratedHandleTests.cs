using System;
using System.Threading.Tasks;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>The generated <c>RentHandle()</c>, compiled by the generator running as an analyzer.</summary>
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
}
