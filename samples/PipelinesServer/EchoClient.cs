using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SlabGen;

namespace PipelinesServer;

/// <summary>
/// The client: each connection sends its messages in windows of <see cref="Window"/> frames and checks every reply
/// (sequence, length and each payload byte) before it sends the next window. Its pipes take blocks from
/// <see cref="SlabMemoryPool.Shared"/>.
/// </summary>
public static class EchoClient
{
    public const int Window = 32;

    /// <summary>Runs <paramref name="connections"/> connections of <paramref name="messages"/> messages each; returns the bytes sent.</summary>
    /// <exception cref="InvalidDataException">A reply was wrong or missing.</exception>
    public static async Task<long> RunAsync(IPEndPoint server, int connections, int messages, CancellationToken cancel)
    {
        var tasks = new Task<long>[connections];
        for (int c = 0; c < connections; c++)
            tasks[c] = RunConnectionAsync(server, c, messages, cancel);
        long total = 0;
        foreach (long sent in await Task.WhenAll(tasks))
            total += sent;
        return total;
    }

    private static async Task<long> RunConnectionAsync(IPEndPoint server, int connection, int messages, CancellationToken cancel)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, cancel);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        PipeReader reader = PipeReader.Create(stream, new StreamPipeReaderOptions(pool: SlabMemoryPool.Shared, leaveOpen: true));
        PipeWriter writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(pool: SlabMemoryPool.Shared, leaveOpen: true));
        long sent = 0;
        for (long next = 0; next < messages;)
        {
            long end = Math.Min(next + Window, messages);
            for (long s = next; s < end; s++)
                sent += Frames.WriteRequest(writer, connection, s);
            await writer.FlushAsync(cancel);
            while (next < end)
            {
                ReadResult result = await reader.ReadAsync(cancel);
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (next < end && Frames.TryCheckReply(ref buffer, connection, next))
                    next++;
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted && next < end)
                    throw new InvalidDataException($"connection {connection}: the server closed the connection before reply {next}.");
            }
        }
        await writer.CompleteAsync();
        socket.Shutdown(SocketShutdown.Send);
        ReadResult last = await reader.ReadAsync(cancel); // the server closes its side once it has seen ours
        if (!last.Buffer.IsEmpty)
            throw new InvalidDataException($"connection {connection}: {last.Buffer.Length} bytes after the last reply.");
        reader.AdvanceTo(last.Buffer.End);
        await reader.CompleteAsync();
        return sent;
    }
}
