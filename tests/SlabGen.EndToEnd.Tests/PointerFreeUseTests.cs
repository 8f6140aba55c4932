using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>Code without pointers uses the generated <c>Rent()</c>, and slabinfo re-tunes a generated cache.</summary>
[Collection(CacheCollection.Name)]
public class PointerFreeUseTests
{
    [Fact]
    public void Rent_gives_a_ref_that_is_freed_on_dispose()
    {
        long frees = E2eMessage.Cache.Cache.GetStatistics().Frees;
        using (var message = E2eMessage.Rent())
        {
            message.Value = new E2eMessage(42, 1, 2.5);
            ref E2eMessage same = ref message.Value;
            same.Kind = 7;
            Assert.Equal(new E2eMessage(42, 7, 2.5), message.Value);
        }
        Assert.Equal(frees + 1, E2eMessage.Cache.Cache.GetStatistics().Frees);
    }

    [Fact]
    public void SlabInfo_retunes_a_generated_cache_by_name()
    {
        SlabCache node = Graph.Node.Cache.Cache;
        try
        {
            SlabInfo.Apply("e2e_node 64 16 4");
            Assert.Equal((64, 16, 4), (node.Limit, node.BatchCount, node.SharedFactor));
            Assert.Contains("\ne2e_node ", SlabInfo.Read());
        }
        finally
        {
            node.Tune(Graph.Node.SlabSpec.Limit, Graph.Node.SlabSpec.BatchCount, Graph.Node.SlabSpec.SharedFactor);
        }
        Assert.Equal((32, 8, 2), (node.Limit, node.BatchCount, node.SharedFactor));
    }
}
