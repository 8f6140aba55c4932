using System;
using System.Runtime.CompilerServices;
using SlabGen.Core;

namespace SlabGen;

/// <summary>
/// The typed face of a slab cache for objects of type <typeparamref name="T"/>; what the <c>[SlabCache]</c>
/// generator hands out. It may be a merged alias of a compatible cache (see <see cref="IsAlias"/>).
/// </summary>
public sealed unsafe class SlabCache<T> : IDisposable where T : unmanaged
{
    private readonly FastPath _fast;
    private bool _disposed;

    private SlabCache(SlabCache cache, string name, bool alias)
    {
        Cache = cache;
        Name = name;
        IsAlias = alias;
        _fast = cache.Fast;
    }

    /// <summary>The untyped cache that serves the objects.</summary>
    public SlabCache Cache { get; }

    /// <summary>The name this typed cache has in slabinfo (for an alias, its alias name, not the name of the cache serving it).</summary>
    public string Name { get; }

    /// <summary>True when this is a merged alias of a compatible cache (<c>find_mergeable</c>).</summary>
    public bool IsAlias { get; }

    /// <summary><c>sizeof(T)</c>.</summary>
    public int ObjectSize => Unsafe.SizeOf<T>();

    /// <summary>Creates a cache for <typeparamref name="T"/> (<c>kmem_cache_create</c>).</summary>
    /// <returns>The cache; null if it could not be made and <see cref="SlabFlags.Panic"/> is not set.</returns>
    public static SlabCache<T>? Create(string name, int align = 0, SlabFlags flags = SlabFlags.None, delegate*<T*, void> ctor = null)
        => Create(name, new SlabCacheOptions { Align = align, Flags = flags, Ctor = (delegate*<void*, void>)ctor });

    /// <summary>Creates a cache for <typeparamref name="T"/> with every option; <see cref="SlabCacheOptions.Size"/> is 0 or at least <c>sizeof(T)</c>.</summary>
    public static SlabCache<T>? Create(string name, SlabCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int size = options.Size == 0 ? Unsafe.SizeOf<T>() : options.Size;
        if (size < Unsafe.SizeOf<T>())
            throw new ArgumentOutOfRangeException(nameof(options), options.Size,
                $"slab cache '{name}': size {options.Size} is smaller than sizeof({typeof(T).Name}) = {Unsafe.SizeOf<T>()}.");
        SlabCache? cache = SlabCache.Create(name, new SlabCacheOptions
        {
            Size = size,
            Align = options.Align,
            Flags = options.Flags,
            Ctor = options.Ctor,
            Limit = options.Limit,
            BatchCount = options.BatchCount,
            SharedFactor = options.SharedFactor,
            Topology = options.Topology,
            NameScope = options.NameScope,
            InUse = Unsafe.SizeOf<T>(),
        });
        return cache == null ? null : new SlabCache<T>(cache, cache.Name, alias: false);
    }

    /// <summary>
    /// A typed alias named <paramref name="name"/> of <paramref name="target"/> (<c>__kmem_cache_alias</c>): objects
    /// of <typeparamref name="T"/> are served by the target, which must be large and aligned enough and have no ctor.
    /// A debug cache never merges (<c>SLAB_NEVER_MERGE</c>): when <paramref name="flags"/>, or <c>SLABGEN_DEBUG</c> for
    /// <paramref name="name"/>, asks for a debug flag, or the target has one, the result is a cache of its own named
    /// <paramref name="name"/> (<see cref="IsAlias"/> false), as <c>find_mergeable</c> then finds nothing and a new cache
    /// is made.
    /// </summary>
    /// <remarks>With <paramref name="nameScope"/>, a name already taken makes the alias <c>name@scope</c> (see <see cref="SlabCacheOptions.NameScope"/>).</remarks>
    public static SlabCache<T> Alias(string name, SlabCache target, int align = 0, string? nameScope = null, SlabFlags flags = SlabFlags.None)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(name);
        SlabFlags asked = SlabConfig.Current.Debug.CacheFlags(flags, name);
        if (((asked | target.Flags) & SlabDebugOptions.DebugFlags) != 0)
            return Create(name, new SlabCacheOptions { Align = align, Flags = flags | SlabFlags.Panic, NameScope = nameScope })!;
        string taken = target.AddAlias(name, Unsafe.SizeOf<T>(), align, nameScope);
        return new SlabCache<T>(target, taken, alias: true);
    }

    /// <summary>Allocates an object (<c>kmem_cache_alloc</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T* Alloc()
    {
        void* obj = _fast.TryAlloc();
        return (T*)(obj != null ? obj : Cache.AllocSlow());
    }

    /// <summary>Frees an object (<c>kmem_cache_free</c>); null is ignored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(T* obj)
    {
        if (obj == null)
            return;
        if (!_fast.IsObject(obj))
            Cache.NotOnFastPath(obj);
        if (!_fast.TryFree(obj))
            Cache.FreeSlow(obj);
    }

    /// <summary>Allocates <c>objects.Length</c> objects (<c>kmem_cache_alloc_bulk</c>); see <see cref="SlabCache.AllocBulk"/>.</summary>
    public void AllocBulk(Span<nint> objects) => Cache.AllocBulk(objects);

    /// <summary>Frees every object of <paramref name="objects"/> (<c>kmem_cache_free_bulk</c>); see <see cref="SlabCache.FreeBulk"/>.</summary>
    public void FreeBulk(ReadOnlySpan<nint> objects) => Cache.FreeBulk(objects);

    /// <summary>Allocates an object and wraps it in a disposable owner that exposes it as <c>ref T</c>.</summary>
    public SlabRef<T> Rent() => new(this, Alloc());

    /// <summary>
    /// Allocates an object and wraps it in a <see cref="SlabHandle{T}"/>: unlike <see cref="Rent"/>'s ref struct, a
    /// handle can be stored in fields and held across <c>await</c>; disposing it frees the object, once.
    /// </summary>
    public SlabHandle<T> RentHandle() => SlabHandle<T>.Rent(this);

    /// <summary>Destroys the cache, or for an alias, drops the alias.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        if (IsAlias)
            Cache.RemoveAlias(Name);
        else
            Cache.Dispose();
        _disposed = true;
    }

    /// <inheritdoc/>
    public override string ToString() => IsAlias ? $"{Name} -> {Cache.Name}" : Cache.ToString();
}
