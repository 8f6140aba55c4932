using System;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using PipelinesServer;
using SlabGen;

// A TCP echo server on System.IO.Pipelines with SlabGen underneath, run against its own client on 127.0.0.1:
//   dotnet run -c Release --project samples/PipelinesServer -- [--port N] [--connections N] [--messages N]
// --port 0 (the default) takes a free port; --messages is per connection.
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int port = 0, connections = 4, messages = 25_000;
for (int i = 0; i < args.Length; i += 2)
{
    int value = -1;
    bool ok = i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out value);
    switch (args[i])
    {
        case "--port" when ok && value <= IPEndPoint.MaxPort: port = value; break;
        case "--connections" when ok && value > 0: connections = value; break;
        case "--messages" when ok && value > 0: messages = value; break;
        default:
            Console.Error.WriteLine($"unknown or bad argument '{args[i]}'; usage: [--port 0..65535] [--connections N>0] [--messages N>0]");
            return 2;
    }
}

using var pool = new SlabMemoryPool();
Console.WriteLine($"pool {pool.Name}: {pool.BlockSize}-byte blocks; reaper every {SlabAllocator.ReapInterval.TotalSeconds:F0} s (SlabGen.ReapIntervalMs in the project file)");
int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
long allocated = GC.GetTotalAllocatedBytes(precise: true);
var clock = Stopwatch.StartNew();
long sent;
EchoServer server = new(new IPEndPoint(IPAddress.Loopback, port), pool);
await using (server)
{
    server.Start();
    Console.WriteLine($"listening on {server.EndPoint}; {connections} connections x {messages:N0} messages");
    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
    sent = await EchoClient.RunAsync(server.EndPoint, connections, messages, timeout.Token);
    await server.StopAsync(TimeSpan.FromSeconds(30));
}
clock.Stop();
long total = (long)connections * messages;
long bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
Console.WriteLine($"replies checked: {total:N0} of {total:N0}, all correct; the server answered {server.Messages:N0}, {server.Failures} connections failed");
Console.WriteLine($"time: {clock.Elapsed.TotalSeconds:F2} s, {total / clock.Elapsed.TotalSeconds:N0} messages/s, {sent / clock.Elapsed.TotalSeconds / (1 << 20):F1} MiB/s each way");
Console.WriteLine($"GC: {GC.CollectionCount(0) - gen0} gen0, {GC.CollectionCount(1) - gen1} gen1, {GC.CollectionCount(2) - gen2} gen2 collections; " +
    $"{bytes:N0} bytes allocated ({(double)bytes / total:F0} per message, client and server together)");
Console.WriteLine($"blocks still rented: {pool.Rented} of {pool.Name}, {SlabMemoryPool.Shared.Rented} of {SlabMemoryPool.Shared.Name}");
Console.WriteLine();
SlabInfo.Write(Console.Out);
return server.Messages == total && server.Failures == 0 && pool.Rented == 0 ? 0 : 1;
