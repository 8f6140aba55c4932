using System;
using System.Buffers.Binary;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using PipelinesServer;
using Xunit;

namespace SlabGen.EndToEnd.Tests;

/// <summary>
/// The Pipelines sample's server on 127.0.0.1 (an ephemeral port) against its client: every reply is checked, and
/// afterwards every pool block and every slab object is back.
/// </summary>
[Collection(CacheCollection.Name)]
public class PipelinesServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Every_reply_is_right_and_every_block_and_message_comes_back()
    {
        const int Connections = 3, Messages = 3000;
        using var pool = new SlabMemoryPool(new SlabMemoryPoolOptions { Name = "e2e_pipelines_pool" });
        long messageFrees = Message.Cache.Cache.GetStatistics().Frees;
        long connectionFrees = ConnectionState.Cache.Cache.GetStatistics().Frees;
        var server = new EchoServer(new IPEndPoint(IPAddress.Loopback, 0), pool);
        await using (server)
        {
            server.Start();
            Assert.NotEqual(0, server.EndPoint.Port);
            using var cancel = new CancellationTokenSource(Bound);
            long sent = await EchoClient.RunAsync(server.EndPoint, Connections, Messages, cancel.Token).WaitAsync(Bound);
            Assert.True(sent > (long)Connections * Messages * Frames.SequenceBytes);
            await server.StopAsync(Bound);
        }

        Assert.Equal(Connections * Messages, server.Messages); // the client checked each of them
        Assert.Equal(0, server.Failures);
        Assert.Equal(0, pool.Rented);
        Assert.True(pool.Cache.GetStatistics().Allocations > 0, "the pipes did not use the pool");
        Assert.Equal(Connections * Messages, Message.Cache.Cache.GetStatistics().Frees - messageFrees);
        Assert.Equal(Connections, ConnectionState.Cache.Cache.GetStatistics().Frees - connectionFrees);
        SlabStatistics messages = Message.Cache.Cache.GetStatistics();
        Assert.Equal(messages.Allocations, messages.Frees);
    }

    [Fact]
    public async Task A_bad_frame_ends_its_connection_and_frees_what_it_held()
    {
        using var pool = new SlabMemoryPool(new SlabMemoryPoolOptions { Name = "e2e_pipelines_bad" });
        long messageFrees = Message.Cache.Cache.GetStatistics().Frees;
        var server = new EchoServer(new IPEndPoint(IPAddress.Loopback, 0), pool);
        await using (server)
        {
            server.Start();
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            using var cancel = new CancellationTokenSource(Bound);
            await socket.ConnectAsync(server.EndPoint, cancel.Token);
            var frames = new byte[2 * 16 + 8];
            // One good frame (8-byte sequence, 4-byte payload), then a length no frame may have.
            BinaryPrimitives.WriteInt32LittleEndian(frames, 12);
            BinaryPrimitives.WriteInt64LittleEndian(frames.AsSpan(4), 99);
            BinaryPrimitives.WriteInt32LittleEndian(frames.AsSpan(16), Frames.MaxBody + 1);
            await socket.SendAsync(frames, SocketFlags.None, cancel.Token);

            var reply = new byte[64];
            int got = 0, n;
            while ((n = await socket.ReceiveAsync(reply.AsMemory(got), SocketFlags.None, cancel.Token)) > 0)
                got += n;
            Assert.Equal(16, got); // the good frame's reply, then the server closed the connection
            Assert.Equal(99, BinaryPrimitives.ReadInt64LittleEndian(reply.AsSpan(4)));
            Assert.True(SpinWait.SpinUntil(() => server.Failures == 1, Bound));
            await server.StopAsync(Bound);
        }
        Assert.Equal(1, server.Messages);
        Assert.Equal(1, Message.Cache.Cache.GetStatistics().Frees - messageFrees);
        Assert.Equal(0, pool.Rented);
    }

    [Fact]
    public async Task A_reply_that_differs_from_the_request_is_caught_by_the_client_check()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        Frames.WriteRequest(pipe.Writer, connection: 1, sequence: 5); // an echo, not a reply: the bytes are not masked
        await pipe.Writer.FlushAsync();
        Assert.True(pipe.Reader.TryRead(out System.IO.Pipelines.ReadResult result));
        System.Buffers.ReadOnlySequence<byte> buffer = result.Buffer;
        if (Frames.PayloadLength(1, 5) > 0)
            Assert.Throws<InvalidDataException>(() => Frames.TryCheckReply(ref buffer, 1, 5));
        buffer = result.Buffer;
        Assert.Throws<InvalidDataException>(() => Frames.TryCheckReply(ref buffer, 1, 6));
    }
}
