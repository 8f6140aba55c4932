using System;
using System.Globalization;
using SlabGen;

// Usage: SlabGen.SlabTopTarget <cache name> <object size> <objects>
// Allocates the objects from a new cache and from kmalloc-256, prints both caches' slabinfo rows and "ready", then
// holds everything until its standard input closes. Run it with SLABGEN_NO_REAP=1 so the rows stay as printed.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: SlabGen.SlabTopTarget <cache name> <object size> <objects>");
    return 2;
}
string name = args[0];
int size = int.Parse(args[1], CultureInfo.InvariantCulture);
int count = int.Parse(args[2], CultureInfo.InvariantCulture);
SlabCache cache = SlabCache.Create(name, new SlabCacheOptions { Size = size, Flags = SlabFlags.Panic })!;
var held = new nint[count];
unsafe
{
    for (int i = 0; i < count; i++)
        held[i] = (nint)cache.Alloc();
    for (int i = 0; i < count / 2; i++)
        Kmalloc.Free(Kmalloc.Alloc(200));
}
Console.WriteLine("row " + cache.GetSlabInfo());
Console.WriteLine("row " + SlabAllocator.Find("kmalloc-256")!.GetSlabInfo());
Console.WriteLine("ready");
Console.Out.Flush();
Console.In.ReadToEnd();
GC.KeepAlive(held);
return 0;
