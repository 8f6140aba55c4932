using System.Collections.Generic;
using Xunit;

namespace SlabGen.Tests;

public unsafe class NodeTests
{
    [Fact]
    public void Objects_come_from_the_local_node_and_go_back_to_their_own()
    {
        var topology = NodeTopology.Simulated(2, 2); // CPU 0 on node 0, CPU 1 on node 1
        using var cache = SlabCache.Create(TestSupport.Name("numa"), new SlabCacheOptions { Size = 64, Topology = topology })!;
        Assert.Equal(2, cache.NodeCount);
        var fromNode0 = new List<nint>();
        TestSupport.OnCpu(0, () =>
        {
            for (int i = 0; i < 1000; i++)
                fromNode0.Add((nint)cache.Alloc());
        });
        foreach (nint p in fromNode0)
            Assert.Equal(0, TestSupport.NodeOfObject(cache, (void*)p));
        Assert.Equal(0, TestSupport.NodeState(cache, 1).Slabs);

        // Freed on a CPU of node 1: they must go back to node 0's lists, not into node 1's arrays.
        TestSupport.OnCpu(1, () =>
        {
            foreach (nint p in fromNode0)
                cache.Free((void*)p);
        });
        cache.Shrink();
        Assert.True(cache.GetStatistics().RemoteFrees > 0);
        Assert.Equal(0, TestSupport.NodeState(cache, 1).Slabs);
        Assert.Equal(0, cache.GetSlabInfo().NumSlabs);

        var fromNode1 = new List<nint>();
        TestSupport.OnCpu(1, () =>
        {
            for (int i = 0; i < 500; i++)
                fromNode1.Add((nint)cache.Alloc());
        });
        foreach (nint p in fromNode1)
            Assert.Equal(1, TestSupport.NodeOfObject(cache, (void*)p));
        TestSupport.OnCpu(0, () =>
        {
            foreach (nint p in fromNode1)
                cache.Free((void*)p);
        });
        TestSupport.AssertBalanced(cache, 0);
        var (slabs1, free1, limit1) = TestSupport.NodeState(cache, 1);
        Assert.True(slabs1 > 0 && free1 > 0 && free1 <= limit1 + cache.ObjectsPerSlab);
        Assert.Equal(0, TestSupport.NodeState(cache, 0).Slabs); // nothing of node 1 landed on node 0
    }

    [Fact]
    public void Free_limit_follows_the_cpus_on_each_node()
    {
        var topology = NodeTopology.Simulated(2, 6); // 3 CPUs per node
        using var cache = SlabCache.Create(TestSupport.Name("numa_limit"), new SlabCacheOptions { Size = 256, Topology = topology })!;
        for (int node = 0; node < 2; node++)
            Assert.Equal((1 + 3) * cache.BatchCount + cache.ObjectsPerSlab, TestSupport.NodeState(cache, node).FreeLimit);
    }
}
