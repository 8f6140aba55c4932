using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.IO.Pipelines;
using SlabGen;

namespace PipelinesServer;

/// <summary>
/// The protocol: a frame is a 32-bit little-endian body length, then the body: a 64-bit sequence number and 0 to
/// <see cref="Message.MaxPayload"/> payload bytes. The server answers each frame with one of the same sequence whose
/// payload bytes are XORed with <see cref="ReplyMask"/>, so the client can tell a reply from an echo of its own bytes.
/// </summary>
public static unsafe class Frames
{
    public const int HeaderBytes = 4;
    public const int SequenceBytes = 8;
    public const int MaxBody = SequenceBytes + Message.MaxPayload;
    public const byte ReplyMask = 0x5A;

    /// <summary>Takes one whole frame off the front of <paramref name="buffer"/> into a new message; false while the frame is incomplete.</summary>
    /// <exception cref="InvalidDataException">The length field is out of range.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out SlabHandle<Message> message)
    {
        message = default;
        if (buffer.Length < HeaderBytes)
            return false;
        Span<byte> header = stackalloc byte[HeaderBytes + SequenceBytes];
        buffer.Slice(0, HeaderBytes).CopyTo(header);
        int body = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (body < SequenceBytes || body > MaxBody)
            throw new InvalidDataException($"frame body of {body} bytes; expected {SequenceBytes}..{MaxBody}.");
        if (buffer.Length < HeaderBytes + body)
            return false;
        buffer.Slice(HeaderBytes, SequenceBytes).CopyTo(header);
        message = Message.RentHandle();
        Message* m = message.Pointer;
        m->Sequence = BinaryPrimitives.ReadInt64LittleEndian(header);
        m->Length = body - SequenceBytes;
        buffer.Slice(HeaderBytes + SequenceBytes, m->Length).CopyTo(new Span<byte>(m->Payload, m->Length));
        buffer = buffer.Slice(HeaderBytes + body);
        return true;
    }

    /// <summary>Writes the reply to <paramref name="message"/>; returns the bytes written.</summary>
    public static int WriteReply(PipeWriter output, SlabHandle<Message> message)
    {
        Message* m = message.Pointer;
        int total = HeaderBytes + SequenceBytes + m->Length;
        Span<byte> span = output.GetSpan(total);
        BinaryPrimitives.WriteInt32LittleEndian(span, SequenceBytes + m->Length);
        BinaryPrimitives.WriteInt64LittleEndian(span[HeaderBytes..], m->Sequence);
        var payload = new ReadOnlySpan<byte>(m->Payload, m->Length);
        Span<byte> reply = span.Slice(HeaderBytes + SequenceBytes, m->Length);
        for (int i = 0; i < payload.Length; i++)
            reply[i] = (byte)(payload[i] ^ ReplyMask);
        output.Advance(total);
        return total;
    }

    /// <summary>The payload length of message <paramref name="sequence"/> of connection <paramref name="connection"/>: 0..MaxPayload, spread.</summary>
    public static int PayloadLength(int connection, long sequence)
        => (int)((ulong)(sequence * 2654435761L + connection * 40503L) % (Message.MaxPayload + 1));

    /// <summary>Payload byte <paramref name="index"/> of that message.</summary>
    public static byte PayloadByte(int connection, long sequence, int index) => (byte)(sequence * 31 + index * 7 + connection);

    /// <summary>Writes the client's frame for message <paramref name="sequence"/>; returns the bytes written.</summary>
    public static int WriteRequest(PipeWriter output, int connection, long sequence)
    {
        int length = PayloadLength(connection, sequence);
        int total = HeaderBytes + SequenceBytes + length;
        Span<byte> span = output.GetSpan(total);
        BinaryPrimitives.WriteInt32LittleEndian(span, SequenceBytes + length);
        BinaryPrimitives.WriteInt64LittleEndian(span[HeaderBytes..], sequence);
        Span<byte> payload = span.Slice(HeaderBytes + SequenceBytes, length);
        for (int i = 0; i < length; i++)
            payload[i] = PayloadByte(connection, sequence, i);
        output.Advance(total);
        return total;
    }

    /// <summary>
    /// Takes one whole reply off <paramref name="buffer"/> and checks it against what the client sent as message
    /// <paramref name="expected"/>; false while the frame is incomplete.
    /// </summary>
    /// <exception cref="InvalidDataException">The reply is not the expected one.</exception>
    public static bool TryCheckReply(ref ReadOnlySequence<byte> buffer, int connection, long expected)
    {
        if (buffer.Length < HeaderBytes)
            return false;
        Span<byte> header = stackalloc byte[HeaderBytes + SequenceBytes];
        buffer.Slice(0, HeaderBytes).CopyTo(header);
        int body = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (body < SequenceBytes || body > MaxBody)
            throw new InvalidDataException($"connection {connection}: reply body of {body} bytes; expected {SequenceBytes}..{MaxBody}.");
        if (buffer.Length < HeaderBytes + body)
            return false;
        buffer.Slice(HeaderBytes, SequenceBytes).CopyTo(header);
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(header);
        int length = body - SequenceBytes;
        if (sequence != expected || length != PayloadLength(connection, expected))
            throw new InvalidDataException($"connection {connection}: expected reply {expected} of {PayloadLength(connection, expected)} bytes, got {sequence} of {length}.");
        int index = 0;
        foreach (ReadOnlyMemory<byte> segment in buffer.Slice(HeaderBytes + SequenceBytes, length))
        {
            ReadOnlySpan<byte> span = segment.Span;
            for (int i = 0; i < span.Length; i++, index++)
                if (span[i] != (byte)(PayloadByte(connection, expected, index) ^ ReplyMask))
                    throw new InvalidDataException($"connection {connection}: reply {expected} differs at byte {index}.");
        }
        buffer = buffer.Slice(HeaderBytes + body);
        return true;
    }
}
