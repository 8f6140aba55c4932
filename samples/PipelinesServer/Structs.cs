using SlabGen;

namespace PipelinesServer;

/// <summary>
/// One message, copied out of the connection's input pipe into a slab object: the pipe's blocks go back to the pool
/// at once, and the message lives on, held by a <see cref="SlabHandle{T}"/>, until its reply has been flushed.
/// 8 + 4 + 1,012 bytes make exactly the 1 KiB size class.
/// </summary>
[SlabCache(Name = "pipelines_message")]
public unsafe partial struct Message
{
    public const int MaxPayload = 1012;

    public long Sequence;
    public int Length;
    public fixed byte Payload[MaxPayload];
}

/// <summary>What the server keeps per connection, for as long as the connection lives (across every await).</summary>
[SlabCache(Name = "pipelines_connection")]
public partial struct ConnectionState
{
    public long Id;
    public long Messages;
    public long BytesIn;
    public long BytesOut;
    public long Flushes;
}
