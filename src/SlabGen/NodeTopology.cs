using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace SlabGen;

/// <summary>
/// Which CPU belongs to which memory node. <see cref="Machine"/> reads <c>/sys/devices/system/node</c> on Linux
/// (one node elsewhere); <see cref="Simulated"/> spreads CPUs over several nodes so that a small machine can
/// exercise the multi-node paths.
/// </summary>
public sealed class NodeTopology
{
    [ThreadStatic] private static int t_pinnedCpu; // cpu + 1; 0 = not pinned

    private readonly int[] _cpuToNode;
    private readonly int[] _cpusOnNode;

    private NodeTopology(int[] cpuToNode)
    {
        _cpuToNode = cpuToNode;
        int nodes = 0;
        foreach (int n in cpuToNode)
            nodes = Math.Max(nodes, n + 1);
        _cpusOnNode = new int[nodes];
        foreach (int n in cpuToNode)
            _cpusOnNode[n]++;
    }

    /// <summary>Number of memory nodes.</summary>
    public int NodeCount => _cpusOnNode.Length;

    /// <summary>Number of CPUs (per-CPU array caches per cache).</summary>
    public int CpuCount => _cpuToNode.Length;

    /// <summary>This machine's topology.</summary>
    public static NodeTopology Machine { get; } = Detect();

    /// <summary>The node of CPU <paramref name="cpu"/> (<c>cpu_to_node</c>).</summary>
    public int NodeOf(int cpu) => _cpuToNode[cpu];

    /// <summary>CPUs on node <paramref name="node"/> (<c>nr_cpus_node</c>).</summary>
    public int CpusOnNode(int node) => _cpusOnNode[node];

    /// <summary>A topology of <paramref name="nodes"/> nodes with CPU <c>i</c> on node <c>i % nodes</c>.</summary>
    public static NodeTopology Simulated(int nodes, int cpus = 0)
    {
        if (cpus <= 0)
            cpus = Math.Max(Environment.ProcessorCount, nodes);
        if (nodes < 1 || nodes > cpus || nodes > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(nodes), nodes, $"A simulated topology needs between 1 and {cpus} nodes (one CPU per node at least).");
        var map = new int[cpus];
        for (int cpu = 0; cpu < cpus; cpu++)
            map[cpu] = cpu % nodes;
        return new NodeTopology(map);
    }

    /// <summary>The CPU the calling thread runs on now, as an index below <see cref="CpuCount"/> (it may change at once).</summary>
    internal int CurrentCpu()
    {
        int pinned = t_pinnedCpu;
        int cpu = pinned != 0 ? pinned - 1 : Thread.GetCurrentProcessorId();
        return (int)((uint)cpu % (uint)_cpuToNode.Length);
    }

    /// <summary>Test hook: the calling thread reports CPU <paramref name="cpu"/> until the result is disposed.</summary>
    internal static IDisposable PinCurrentThread(int cpu)
    {
        t_pinnedCpu = cpu + 1;
        return new Unpin();
    }

    private sealed class Unpin : IDisposable
    {
        public void Dispose() => t_pinnedCpu = 0;
    }

    private static NodeTopology Detect()
    {
        int cpus = Environment.ProcessorCount;
        try
        {
            const string root = "/sys/devices/system/node";
            if (OperatingSystem.IsLinux() && Directory.Exists(root))
            {
                var nodeIds = new List<int>();
                foreach (string dir in Directory.GetDirectories(root, "node*"))
                    if (int.TryParse(Path.GetFileName(dir).AsSpan(4), out int id))
                        nodeIds.Add(id);
                nodeIds.Sort();
                var cpuToNode = new Dictionary<int, int>();
                for (int dense = 0; dense < nodeIds.Count; dense++)
                {
                    string list = File.ReadAllText(Path.Combine(root, "node" + nodeIds[dense], "cpulist")).Trim();
                    foreach (int cpu in ParseCpuList(list))
                        cpuToNode[cpu] = dense;
                }
                if (cpuToNode.Count > 0)
                {
                    int width = 0;
                    foreach (int cpu in cpuToNode.Keys)
                        width = Math.Max(width, cpu + 1);
                    var map = new int[Math.Max(width, cpus)];
                    for (int cpu = 0; cpu < map.Length; cpu++)
                        map[cpu] = cpuToNode.TryGetValue(cpu, out int node) ? node : 0;
                    return new NodeTopology(map);
                }
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new NodeTopology(new int[cpus]);
    }

    /// <summary>Parses a kernel cpulist such as <c>0-3,8-11</c>.</summary>
    internal static IEnumerable<int> ParseCpuList(string list)
    {
        foreach (string part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-');
            if (dash < 0)
                yield return int.Parse(part);
            else
                for (int cpu = int.Parse(part.AsSpan(0, dash)); cpu <= int.Parse(part.AsSpan(dash + 1)); cpu++)
                    yield return cpu;
        }
    }
}
