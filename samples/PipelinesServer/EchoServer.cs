using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using SlabGen;

namespace PipelinesServer;

/// <summary>
/// The server: one socket per connection with an input and an output <see cref="Pipe"/> on a
/// <see cref="SlabMemoryPool"/>, the way Kestrel's socket transport is built: a receive loop fills the input pipe,
/// a send loop drains the output pipe, and the connection's own loop turns frames into replies.
/// </summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly SlabMemoryPool _pool;
    private readonly PipeOptions _pipeOptions;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _connections = new();
    private readonly Lock _lock = new();
    private Task? _accepting;
    private long _nextId;
    private long _messages;
    private long _failures;

    /// <summary>A server on <paramref name="endpoint"/> (port 0 picks a free one) whose pipes take blocks from <paramref name="pool"/>.</summary>
    public EchoServer(IPEndPoint endpoint, SlabMemoryPool pool)
    {
        _pool = pool;
        _pipeOptions = new PipeOptions(
            pool: pool,
            readerScheduler: PipeScheduler.ThreadPool,
            writerScheduler: PipeScheduler.ThreadPool,
            pauseWriterThreshold: 64 * 1024,
            resumeWriterThreshold: 32 * 1024,
            minimumSegmentSize: pool.BlockSize,
            useSynchronizationContext: false);
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(endpoint);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    /// <summary>Where the server listens.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Messages answered so far, over every connection.</summary>
    public long Messages => Interlocked.Read(ref _messages);

    /// <summary>Connections that ended with an error (a bad frame, a reset).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Starts accepting connections.</summary>
    public void Start()
    {
        _listener.Listen(512);
        _accepting = AcceptLoopAsync();
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                Socket socket = await _listener.AcceptAsync(_stopping.Token);
                socket.NoDelay = true;
                lock (_lock)
                {
                    _connections.RemoveAll(t => t.IsCompleted);
                    _connections.Add(RunConnectionAsync(socket));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>One connection, from accept to close. Its state is a slab object held across every await.</summary>
    private async Task RunConnectionAsync(Socket socket)
    {
        using SlabHandle<ConnectionState> state = ConnectionState.RentHandle();
        state.Value = new ConnectionState { Id = Interlocked.Increment(ref _nextId) };
        var input = new Pipe(_pipeOptions);
        var output = new Pipe(_pipeOptions);
        Task receiving = ReceiveAsync(socket, input.Writer);
        Task sending = SendAsync(socket, output.Reader);
        try
        {
            await ProcessAsync(input.Reader, output.Writer, state);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or SocketException)
        {
            Interlocked.Increment(ref _failures);
            await input.Reader.CompleteAsync(); // the receive loop stops at its next flush
            await output.Writer.CompleteAsync(); // the send loop sends what is there and closes
        }
        await Task.WhenAll(receiving, sending);
        socket.Dispose();
    }

    /// <summary>Socket to input pipe (Kestrel's <c>DoReceive</c>): the pipe's memory is the pool's, pinned for free.</summary>
    private async Task ReceiveAsync(Socket socket, PipeWriter writer)
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                Memory<byte> memory = writer.GetMemory(_pool.BlockSize / 2);
                int received = await socket.ReceiveAsync(memory, SocketFlags.None, _stopping.Token);
                if (received == 0)
                    break;
                writer.Advance(received);
                FlushResult flushed = await writer.FlushAsync();
                if (flushed.IsCompleted || flushed.IsCanceled)
                    break;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException e)
        {
            error = e;
        }
        await writer.CompleteAsync(error);
    }

    /// <summary>Output pipe to socket (Kestrel's <c>DoSend</c>).</summary>
    private async Task SendAsync(Socket socket, PipeReader reader)
    {
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync();
                foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                    for (int sent = 0; sent < segment.Length;)
                        sent += await socket.SendAsync(segment[sent..], SocketFlags.None, _stopping.Token);
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                    break;
            }
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        await reader.CompleteAsync();
    }

    /// <summary>
    /// Frames to replies. Each frame becomes a slab <see cref="Message"/> (so the input blocks go back at once); the
    /// messages of a read are kept, as handles in a list, across the await of the flush that sends their replies,
    /// and freed after it.
    /// </summary>
    private async Task ProcessAsync(PipeReader input, PipeWriter output, SlabHandle<ConnectionState> state)
    {
        var pending = new List<SlabHandle<Message>>(64);
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync();
                ReadOnlySequence<byte> buffer = result.Buffer;
                state.Value.BytesIn += buffer.Length;
                InvalidDataException? bad = null;
                try
                {
                    while (Frames.TryRead(ref buffer, out SlabHandle<Message> message))
                        pending.Add(message);
                }
                catch (InvalidDataException e)
                {
                    bad = e; // the frames before it are still answered
                }
                state.Value.BytesIn -= buffer.Length; // what stays unparsed is counted when it is read again
                input.AdvanceTo(buffer.Start, buffer.End);

                if (pending.Count > 0)
                {
                    foreach (SlabHandle<Message> message in pending)
                        state.Value.BytesOut += Frames.WriteReply(output, message);
                    FlushResult flushed = await output.FlushAsync(); // the messages cross this await
                    state.Value.Flushes++;
                    state.Value.Messages += pending.Count;
                    Interlocked.Add(ref _messages, pending.Count);
                    foreach (SlabHandle<Message> message in pending)
                        message.Dispose();
                    pending.Clear();
                    if (flushed.IsCompleted)
                        break;
                }
                if (bad != null)
                    ExceptionDispatchInfo.Throw(bad);
                if (result.IsCompleted || result.IsCanceled)
                    break;
            }
        }
        finally
        {
            foreach (SlabHandle<Message> message in pending)
                message.Dispose();
        }
        await input.CompleteAsync();
        await output.CompleteAsync();
    }

    /// <summary>Stops accepting, ends every connection, and waits (at most <paramref name="timeout"/>) for them.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _stopping.Cancel();
        _listener.Dispose();
        Task[] connections;
        lock (_lock)
            connections = _connections.ToArray();
        Task all = Task.WhenAll(connections);
        if (_accepting != null)
            all = Task.WhenAll(all, _accepting);
        await all.WaitAsync(timeout);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
            await StopAsync(TimeSpan.FromSeconds(10));
        _stopping.Dispose();
    }
}
