using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>Several threads allocate, fill, check and free objects through the generated caches, some freed by another thread.</summary>
[Collection(CacheCollection.Name)]
public unsafe class ConcurrentAllocationTests
{
    private const int Threads = 4;
    private const int Rounds = 150;
    private const int Batch = 64;

    [Fact]
    public void Threads_keep_object_contents_and_counts_balance()
    {
        SlabStatistics packetsBefore = Packet.Cache.Cache.GetStatistics();
        SlabStatistics messagesBefore = E2eMessage.Cache.Cache.GetStatistics();
        SlabStatistics nodesBefore = Graph.Node.Cache.Cache.GetStatistics();
        var handedOver = new ConcurrentQueue<(nint Packet, long Owner)>();
        var errors = new ConcurrentQueue<string>();
        using var start = new Barrier(Threads);

        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int id = t;
            threads[t] = new Thread(() => Work(id, start, handedOver, errors));
            threads[t].Start();
        }
        foreach (Thread thread in threads)
            Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "a thread did not finish");
        while (handedOver.TryDequeue(out var item))
            FreeHandedOver(item, errors);

        Assert.True(errors.IsEmpty, string.Join("\n", errors));
        const long expected = (long)Threads * Rounds * Batch;
        SlabStatistics packets = Packet.Cache.Cache.GetStatistics();
        SlabStatistics messages = E2eMessage.Cache.Cache.GetStatistics();
        SlabStatistics nodes = Graph.Node.Cache.Cache.GetStatistics();
        Assert.Equal((expected, expected), (packets.Allocations - packetsBefore.Allocations, packets.Frees - packetsBefore.Frees));
        Assert.Equal((expected, expected), (messages.Allocations - messagesBefore.Allocations, messages.Frees - messagesBefore.Frees));
        Assert.Equal((expected, expected), (nodes.Allocations - nodesBefore.Allocations, nodes.Frees - nodesBefore.Frees));
    }

    private static void Work(int id, Barrier start, ConcurrentQueue<(nint, long)> handedOver, ConcurrentQueue<string> errors)
    {
        var packets = new Packet*[Batch];
        var messages = new E2eMessage*[Batch];
        start.SignalAndWait();
        for (int round = 0; round < Rounds; round++)
        {
            Graph.Node* list = null;
            for (int i = 0; i < Batch; i++)
            {
                long owner = ((long)id << 40) | ((long)round << 16) | (uint)i;
                Packet* p = Packet.Alloc();
                if (p->Length != Packet.Constructed)
                    errors.Enqueue($"thread {id}: packet {i} of round {round} was not in its constructed state ({p->Length})");
                if (((nint)p & 63) != 0)
                    errors.Enqueue($"thread {id}: packet at {(nint)p:x} is not cache-line aligned");
                p->Length = i;
                p->Owner = owner;
                for (int b = 0; b < 1500; b += 100)
                    p->Data[b] = (byte)(owner + b);
                packets[i] = p;

                E2eMessage* m = E2eMessage.Alloc();
                *m = new E2eMessage(owner, id, round + i / 1000.0);
                messages[i] = m;

                Graph.Node* n = Graph.Node.Alloc();
                n->Value = owner;
                n->Next = list;
                list = n;
            }
            Thread.Yield();
            for (int i = 0; i < Batch; i++)
            {
                long owner = ((long)id << 40) | ((long)round << 16) | (uint)i;
                Check(packets[i], owner, errors);
                if (messages[i]->Id != owner || messages[i]->Kind != id || messages[i]->Value != round + i / 1000.0)
                    errors.Enqueue($"thread {id}: message {i} of round {round} was overwritten: {*messages[i]}");
                E2eMessage.Free(messages[i]);
                if (i % 2 == 0)
                {
                    Restore(packets[i]);
                    Packet.Free(packets[i]);
                }
                else
                    handedOver.Enqueue(((nint)packets[i], owner)); // freed by whichever thread dequeues it
            }
            for (long expected = Batch - 1; list != null; expected--)
            {
                Graph.Node* next = list->Next;
                if ((list->Value & 0xFFFF) != expected || list->Value >> 40 != id)
                    errors.Enqueue($"thread {id}: node list broken at {expected}: {list->Value:x}");
                Graph.Node.Free(list);
                list = next;
            }
            for (int i = 0; i < Batch / 2 && handedOver.TryDequeue(out var item); i++)
                FreeHandedOver(item, errors);
        }
    }

    private static void FreeHandedOver((nint Packet, long Owner) item, ConcurrentQueue<string> errors)
    {
        var p = (Packet*)item.Packet;
        Check(p, item.Owner, errors);
        Restore(p);
        Packet.Free(p);
    }

    private static void Check(Packet* p, long owner, ConcurrentQueue<string> errors)
    {
        bool dataIntact = true;
        for (int b = 0; b < 1500; b += 100)
            dataIntact &= p->Data[b] == (byte)(owner + b);
        if (p->Owner != owner || p->Length != (int)(owner & 0xFFFF) || !dataIntact)
            errors.Enqueue($"packet of {owner:x} was overwritten: owner {p->Owner:x}, length {p->Length}");
    }

    // Objects go back to the cache in their constructed state (Bonwick): the ctor is not run again on reuse.
    private static void Restore(Packet* p)
    {
        p->Length = Packet.Constructed;
        p->Owner = 0;
    }
}
