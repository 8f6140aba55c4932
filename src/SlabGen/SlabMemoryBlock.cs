using System;
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;

namespace SlabGen;

/// <summary>
/// One block of a <see cref="SlabMemoryPool"/>, and its owner: a <see cref="MemoryManager{T}"/> over native memory
/// from the pool's slab cache (or from kmalloc for a request above the block size). The memory never moves, so
/// <see cref="Pin"/> returns its address and <see cref="Unpin"/> does nothing. The object is pooled: each
/// <see cref="SlabMemoryPool.Rent"/> leases it to one renter, and disposing it ends the lease.
/// </summary>
/// <remarks>
/// <see cref="_lease"/> counts leases and returns: odd while rented. Every access checks it, so the owner, and every
/// <see cref="Memory{T}"/> made from it, refuses to be used once returned; the compare-and-swap in
/// <see cref="Return"/> makes exactly one of two racing disposals free the block. A stale reference cannot be told
/// from the next renter's once the pool hands this object out again, which the pool's quarantine delays. There is
/// no finalizer (CA2015): a block whose owner is dropped without being disposed stays allocated, since a
/// <see cref="Span{T}"/> of it may still be in use, and the pool refuses to be disposed while it counts it rented.
/// </remarks>
internal sealed unsafe class SlabMemoryBlock : MemoryManager<byte>, IDisposable
{
    private readonly SlabMemoryPool _pool;
    private byte* _ptr;
    private int _length;
    private bool _kmalloc;
    private long _lease;

    public SlabMemoryBlock(SlabMemoryPool pool) => _pool = pool;

    /// <summary>True while rented.</summary>
    public bool IsRented => (Volatile.Read(ref _lease) & 1) != 0;

    /// <summary>Leases and returns so far; odd while rented.</summary>
    internal long Lease => Volatile.Read(ref _lease);

    /// <summary>The block's address while rented, for tests.</summary>
    internal byte* Pointer => _ptr;

    /// <summary>Starts a lease of <paramref name="length"/> bytes at <paramref name="ptr"/>. The caller holds this object exclusively.</summary>
    internal void Start(byte* ptr, int length, bool kmalloc)
    {
        _ptr = ptr;
        _length = length;
        _kmalloc = kmalloc;
        Volatile.Write(ref _lease, _lease + 1);
    }

    /// <inheritdoc/>
    public override Memory<byte> Memory
    {
        get
        {
            ThrowIfReturned();
            return CreateMemory(_length);
        }
    }

    /// <inheritdoc/>
    public override Span<byte> GetSpan()
    {
        ThrowIfReturned();
        return new Span<byte>(_ptr, _length);
    }

    /// <summary>The block's address plus <paramref name="elementIndex"/>: the memory is native and never moves.</summary>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ThrowIfReturned();
        if ((uint)elementIndex > (uint)_length)
            throw new ArgumentOutOfRangeException(nameof(elementIndex), elementIndex,
                $"memory pool '{_pool.Name}': cannot pin at {elementIndex} in a block of {_length} bytes.");
        return new MemoryHandle(_ptr + elementIndex, default, this); // the handle keeps the owner alive while pinned
    }

    /// <summary>Nothing to do: the memory never moves.</summary>
    public override void Unpin()
    {
    }

    /// <summary>Returns the block to the pool (<c>IMemoryOwner.Dispose</c>); a second disposal throws <see cref="ObjectDisposedException"/>.</summary>
    protected override void Dispose(bool disposing) => Return();

    /// <summary>
    /// <c>IMemoryOwner.Dispose</c> without <see cref="MemoryManager{T}"/>'s <c>GC.SuppressFinalize</c>: the block has no
    /// finalizer, and the call costs a runtime transition on every return.
    /// </summary>
    void IDisposable.Dispose() => Return();

    private void Return()
    {
        long lease = Volatile.Read(ref _lease);
        if ((lease & 1) == 0 || Interlocked.CompareExchange(ref _lease, lease + 1, lease) != lease)
            ThrowReturned();
        byte* p = _ptr;
        _ptr = null;
        _pool.Return(this, p, _kmalloc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfReturned()
    {
        if ((Volatile.Read(ref _lease) & 1) == 0)
            ThrowReturned();
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowReturned()
        => throw new ObjectDisposedException(_pool.Name,
            $"memory pool '{_pool.Name}': this block was already returned to the pool; its owner and every Memory<byte> made from it are no longer usable.");
}
