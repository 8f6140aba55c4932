using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading;

namespace SlabGen;

/// <summary>
/// One object of a typed slab cache, held by a handle that may live anywhere a value can: in fields, in
/// collections, across <c>await</c>. <c>var m = Message.RentHandle(); m.Value.Length = 1; await ...; m.Dispose();</c>.
/// Disposing it frees the object once.
/// </summary>
/// <remarks>
/// <para>The handle is a struct of three words: the cache, a pooled box that holds the object's address, and the
/// number of the lease this handle holds. Disposing ends the lease with a compare-and-swap on the box, so every copy
/// of the handle, however it was copied, sees the lease gone: a second <see cref="Dispose"/> through any copy, and
/// any <see cref="Value"/> or <see cref="Pointer"/> after it, throws <see cref="ObjectDisposedException"/>, and the
/// object is never freed twice, even when the box has since been reused for another object (lease numbers are never
/// reused).</para>
/// <para>What it cannot catch: a <c>ref T</c> or a <c>T*</c> taken from it before the dispose and used after (they
/// are plain addresses), and a dispose racing a use on another thread (the check and the use are two steps).</para>
/// </remarks>
public readonly unsafe struct SlabHandle<T> : IDisposable where T : unmanaged
{
    private readonly SlabCache<T>? _cache;
    private readonly SlabBox<T>? _box;
    private readonly long _lease;

    private SlabHandle(SlabCache<T> cache, SlabBox<T> box, long lease)
    {
        _cache = cache;
        _box = box;
        _lease = lease;
    }

    /// <summary>Allocates an object of <paramref name="cache"/> and leases a box for it.</summary>
    internal static SlabHandle<T> Rent(SlabCache<T> cache)
    {
        SlabBox<T> box = SlabBox<T>.Take();
        T* obj;
        try
        {
            obj = cache.Alloc();
        }
        catch
        {
            SlabBox<T>.Give(box);
            throw;
        }
        box.Object = obj;
        long lease = box.Lease + 1;
        Volatile.Write(ref box.Lease, lease);
        return new SlabHandle<T>(cache, box, lease);
    }

    /// <summary>The object.</summary>
    /// <exception cref="ObjectDisposedException">The handle (or a copy of it) was disposed.</exception>
    /// <exception cref="InvalidOperationException">The handle is <c>default</c>: it never held an object.</exception>
    public ref T Value
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref *Check();
    }

    /// <summary>The object's address, for code that does use pointers; checked like <see cref="Value"/>.</summary>
    public T* Pointer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Check();
    }

    /// <summary>True while this handle's object is allocated: false once any copy of it was disposed, and for <c>default</c>.</summary>
    public bool IsAllocated => _box != null && Volatile.Read(ref _box.Lease) == _lease;

    /// <summary>The box of this lease, for tests: a later lease can get the same box.</summary>
    internal object? Box => _box;

    /// <summary>The cache the object belongs to; null for <c>default</c>.</summary>
    public SlabCache<T>? Cache => _cache;

    /// <summary>Frees the object. Disposing <c>default</c> does nothing.</summary>
    /// <exception cref="ObjectDisposedException">This handle, or a copy of it, was disposed already; nothing is freed.</exception>
    public void Dispose()
    {
        SlabBox<T>? box = _box;
        if (box == null)
            return;
        if (Interlocked.CompareExchange(ref box.Lease, _lease + 1, _lease) != _lease)
            ThrowDisposed();
        T* obj = box.Object;
        box.Object = null;
        SlabBox<T>.Give(box);
        _cache!.Free(obj);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private T* Check()
    {
        SlabBox<T>? box = _box;
        if (box == null)
            ThrowDefault();
        if (Volatile.Read(ref box.Lease) != _lease)
            ThrowDisposed();
        return box.Object;
    }

    /// <inheritdoc/>
    public override string ToString()
        => _cache == null ? $"SlabHandle<{typeof(T).Name}>(none)"
            : $"SlabHandle<{typeof(T).Name}>({_cache.Name}, {(IsAllocated ? "allocated" : "freed")})";

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowDisposed()
        => throw new ObjectDisposedException(_cache!.Name,
            $"slab cache '{_cache.Name}': this {typeof(T).Name} was already freed through this handle or a copy of it.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDefault()
        => throw new InvalidOperationException($"this SlabHandle<{typeof(T).Name}> is default: it holds no object.");
}
