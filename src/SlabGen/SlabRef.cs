using System;

namespace SlabGen;

/// <summary>
/// An object rented from a typed cache, used without pointers: <c>using var p = Packet.Rent(); p.Value.Length = 1;</c>.
/// Disposing it frees the object. It is a ref struct, so it cannot outlive the scope that rented it; do not copy it
/// and dispose both copies.
/// </summary>
public unsafe ref struct SlabRef<T> where T : unmanaged
{
    private readonly SlabCache<T> _cache;
    private T* _obj;

    internal SlabRef(SlabCache<T> cache, T* obj)
    {
        _cache = cache;
        _obj = obj;
    }

    /// <summary>The object.</summary>
    /// <exception cref="ObjectDisposedException">The object was already given back.</exception>
    public readonly ref T Value
    {
        get
        {
            if (_obj == null)
                throw new ObjectDisposedException(nameof(SlabRef<T>), $"this object of '{_cache?.Name}' was already freed.");
            return ref *_obj;
        }
    }

    /// <summary>The object's address, for code that does use pointers.</summary>
    public readonly T* Pointer => _obj;

    /// <summary>Frees the object; a second call does nothing.</summary>
    public void Dispose()
    {
        if (_obj != null)
        {
            _cache.Free(_obj);
            _obj = null;
        }
    }
}
