using System;
using System.Globalization;
using System.Threading;
using Quickstart;
using SlabGen;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// What the generator computed at compile time: size, size class and tunables, as constants.
Console.WriteLine("compile-time layouts (SlabSpec):");
Console.WriteLine($"  {Packet.SlabSpec.Name,-13} sizeof {Packet.SlabSpec.ObjectSize,5} -> class {Packet.SlabSpec.Size,5}, align {Packet.SlabSpec.Align,2}, limit {Packet.SlabSpec.Limit,3} batch {Packet.SlabSpec.BatchCount,3} shared {Packet.SlabSpec.SharedFactor}");
Console.WriteLine($"  {Order.SlabSpec.Name,-13} sizeof {Order.SlabSpec.ObjectSize,5} -> class {Order.SlabSpec.Size,5}, align {Order.SlabSpec.Align,2}, limit {Order.SlabSpec.Limit,3} batch {Order.SlabSpec.BatchCount,3} shared {Order.SlabSpec.SharedFactor}");
Console.WriteLine($"  {Tick.SlabSpec.Name,-13} sizeof {Tick.SlabSpec.ObjectSize,5} -> class {Tick.SlabSpec.Size,5}, merged into {Tick.Cache.CacheName}");
Console.WriteLine();

// Four threads allocate, use and free objects of all three caches.
const int Threads = 4;
const int Rounds = 2_000;
const int Held = 32;
long checksum = 0;
var workers = new Thread[Threads];
for (int t = 0; t < Threads; t++)
{
    int id = t;
    workers[t] = new Thread(() => Interlocked.Add(ref checksum, Work.Run(id, Rounds, Held)));
    workers[t].Start();
}
foreach (Thread worker in workers)
    worker.Join();
Console.WriteLine($"{Threads} threads x {Rounds} rounds x {Held} objects of each kind: checksum {checksum}");

// Pointer-free use: Rent() hands out a ref to the object and frees it on Dispose.
using (SlabRef<Order> order = Order.Rent())
{
    order.Value = new Order(Id: 1, Price: 101.25, Quantity: 10, Side: 1);
    Console.WriteLine($"rented {order.Value}");
}

// Re-tune a live cache the way writing to /proc/slabinfo does (do_tune_cpucache).
SlabCache packets = Packet.Cache.Cache;
Console.WriteLine($"packet_cache tunables: limit {packets.Limit} batch {packets.BatchCount} shared {packets.SharedFactor}");
SlabInfo.Apply("packet_cache 48 24 4");
Console.WriteLine($"after 'packet_cache 48 24 4': limit {packets.Limit} batch {packets.BatchCount} shared {packets.SharedFactor}");
SlabStatistics stats = packets.GetStatistics();
Console.WriteLine($"packet_cache: {stats.Allocations} allocations, {stats.Frees} frees, {stats.AllocMiss} refills, {stats.Grown} slabs grown");
Console.WriteLine();

Console.Write(SlabInfo.Read());

internal static unsafe class Work
{
    public static long Run(int id, int rounds, int held)
    {
        var packets = new Packet*[held];
        var orders = new Order*[held];
        long sum = 0;
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < held; i++)
            {
                Packet* p = Packet.Alloc();                 // kmem_cache_alloc
                p->Length = 64 + i;
                p->Data[0] = (byte)id;
                packets[i] = p;

                Order* o = Order.Alloc();
                *o = new Order(((long)id << 32) | (uint)i, 100 + i, i, id & 1);
                orders[i] = o;

                Tick* tick = Tick.Alloc();
                tick->Time = round;
                sum += tick->Time;
                Tick.Free(tick);
            }
            for (int i = 0; i < held; i++)
            {
                sum += packets[i]->Length + packets[i]->Data[0] + orders[i]->Quantity;
                packets[i]->Length = 0;                     // back to the constructed state
                Packet.Free(packets[i]);                    // kmem_cache_free
                Order.Free(orders[i]);
            }
        }
        return sum;
    }
}
