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
    /// <returns>The cache. Unlike <see cref="SlabCache.Create(string, SlabCacheOptions)"/>, a cache that cannot be made throws, with or without <see cref="SlabFlags.Panic"/>.</returns>
    /// <exception cref="ArgumentException">A bad argument, named with the cache.</exception>
    /// <exception cref="InvalidOperationException">The cache could not be made (every cache slot is taken, or its arrays could not be allocated).</exception>
    public static SlabCache<T> Create(string name, int align = 0, SlabFlags flags = SlabFlags.None, delegate*<T*, void> ctor = null)
        => Create(name, new SlabCacheOptions { Align = align, Flags = flags, Ctor = (delegate*<void*, void>)ctor });

    /// <summary>Creates a cache for <typeparamref name="T"/> with every option; <see cref="SlabCacheOptions.Size"/> is 0 or at least <c>sizeof(T)</c>.</summary>
    /// <returns>The cache; a cache that cannot be made throws, with or without <see cref="SlabFlags.Panic"/>.</returns>
    /// <exception cref="ArgumentException">A bad argument, named with the cache.</exception>
    /// <exception cref="InvalidOperationException">The cache could not be made.</exception>
    public static SlabCache<T> Create(string name, SlabCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int size = options.Size == 0 ? Unsafe.SizeOf<T>() : options.Size;
        if (size < Unsafe.SizeOf<T>())
            throw new ArgumentOutOfRangeException(nameof(options), options.Size,
                $"slab cache '{name}': size {options.Size} is smaller than sizeof({typeof(T).Name}) = {Unsafe.SizeOf<T>()}.");
        SlabCache cache = SlabCache.Create(name, new SlabCacheOptions
        {
            Size = size,
            Align = options.Align,
            Flags = options.Flags,
            Ctor = options.Ctor,
            Limit = options.Limit,
            BatchCount = options.BatchCount,
            SharedFactor = options.SharedFactor,
            AutoTune = options.AutoTune,
            Topology = options.Topology,
            NameScope = options.NameScope,
            InUse = Unsafe.SizeOf<T>(),
            ThrowOnFailure = true,
        })!;
        return new SlabCache<T>(cache, cache.Name, alias: false);
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
        if (((asked | target.Flags) & Policy.SlabFlagSets.Debug) != 0)
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

    /// <summary>
    /// This cache bound to the calling thread: a handle whose <see cref="SlabLocal{T}.Alloc"/> and
    /// <see cref="SlabLocal{T}.Free"/> skip the thread-local lookup that <see cref="Alloc"/> and <see cref="Free"/>
    /// make on every call. Make one per loop or per request, on the thread that uses it.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The thread's magazine table could not be mapped.</exception>
    public SlabLocal<T> Local()
    {
        if (_disposed)
            throw new ObjectDisposedException(nameof(SlabCache), $"slab cache '{Name}' has been destroyed.");
        return Cache.LocalOf<T>();
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

    /// <summary>The name of the cache that serves the objects: <see cref="Name"/>, or for an alias, its target's.</summary>
    public string CacheName => Cache.Name;

    /// <summary>Object alignment (<see cref="SlabCache.Align"/>).</summary>
    public int Align => Cache.Align;

    /// <summary>Bytes per object slot, the size class (<see cref="SlabCache.Size"/>): at least <see cref="ObjectSize"/>.</summary>
    public int Size => Cache.Size;

    /// <summary>Objects per slab (<see cref="SlabCache.ObjectsPerSlab"/>).</summary>
    public int ObjectsPerSlab => Cache.ObjectsPerSlab;

    /// <summary>Pages per slab, as a power-of-two order (<see cref="SlabCache.Order"/>).</summary>
    public int Order => Cache.Order;

    /// <summary>Where in each free object the free pointer word sits (<see cref="SlabCache.FreePointerOffset"/>).</summary>
    public int FreePointerOffset => Cache.FreePointerOffset;

    /// <summary>The flags of the cache that serves the objects (<see cref="SlabCache.Flags"/>).</summary>
    public SlabFlags Flags => Cache.Flags;

    /// <summary>Memory nodes the cache keeps slab lists for (<see cref="SlabCache.NodeCount"/>).</summary>
    public int NodeCount => Cache.NodeCount;

    /// <summary>Per-CPU array and magazine limit (<see cref="SlabCache.Limit"/>).</summary>
    public int Limit => Cache.Limit;

    /// <summary>Objects moved per refill or flush (<see cref="SlabCache.BatchCount"/>).</summary>
    public int BatchCount => Cache.BatchCount;

    /// <summary>Shared array size in batches (<see cref="SlabCache.SharedFactor"/>).</summary>
    public int SharedFactor => Cache.SharedFactor;

    /// <summary>True while the cache sizes its magazines to its load (<see cref="SlabCache.AutoTuned"/>).</summary>
    public bool AutoTuned => Cache.AutoTuned;

    /// <summary>The largest limit load can grow the cache to (<see cref="SlabCache.AutoMaxLimit"/>).</summary>
    public int AutoMaxLimit => Cache.AutoMaxLimit;

    /// <summary>The alias names the serving cache answers to (<see cref="SlabCache.Aliases"/>).</summary>
    public System.Collections.Generic.IReadOnlyList<string> Aliases => Cache.Aliases;

    /// <summary>True once this face is disposed, or the cache serving it destroyed.</summary>
    public bool IsDisposed => _disposed || Cache.IsDisposed;

    /// <summary>True when <paramref name="obj"/> is the address of an object slot of the serving cache (<see cref="SlabCache.Contains"/>).</summary>
    public bool Contains(T* obj) => Cache.Contains(obj);

    /// <summary>The serving cache's slabinfo row (<see cref="SlabCache.GetSlabInfo"/>); for an alias, its target's row, under the target's name.</summary>
    public SlabInfoRow GetSlabInfo() => Cache.GetSlabInfo();

    /// <summary>The serving cache's counters (<see cref="SlabCache.GetStatistics"/>); an alias shares its target's.</summary>
    public SlabStatistics GetStatistics() => Cache.GetStatistics();

    /// <summary>Gives every cached object and every free slab back (<c>kmem_cache_shrink</c>, <see cref="SlabCache.Shrink"/>).</summary>
    /// <returns>Slabs returned to the page source.</returns>
    public int Shrink() => Cache.Shrink();

    /// <summary>One reap pass over the serving cache (<c>cache_reap</c>, <see cref="SlabCache.Reap"/>).</summary>
    /// <returns>Slabs returned to the page source.</returns>
    public int Reap() => Cache.Reap();

    /// <summary>Checks every slab of the serving cache and reports what it finds (<c>validate_slab_cache</c>, <see cref="SlabCache.Validate"/>).</summary>
    /// <returns>The problems found (0 when the cache is intact).</returns>
    public int Validate() => Cache.Validate();

    /// <summary>The serving cache's allocated objects, with their tracks under <see cref="SlabFlags.StoreUser"/> (<see cref="SlabCache.GetLiveObjects"/>).</summary>
    public System.Collections.Generic.IReadOnlyList<SlabLiveObject> GetLiveObjects(int limit = int.MaxValue) => Cache.GetLiveObjects(limit);

    /// <summary>Re-tunes the per-CPU arrays (<c>do_tune_cpucache</c>, <see cref="SlabCache.Tune"/>).</summary>
    /// <exception cref="InvalidOperationException">This is an alias: its target is shared with other users, so it is tuned through the target, by name.</exception>
    public void Tune(int limit, int batchCount, int sharedFactor)
    {
        if (IsAlias)
            throw new InvalidOperationException(
                $"slab cache '{Name}' is an alias of '{Cache.Name}', which other caches share: tune '{Cache.Name}' itself (SlabInfo.Apply or its SlabCache) if that is what you mean.");
        Cache.Tune(limit, batchCount, sharedFactor);
    }

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
