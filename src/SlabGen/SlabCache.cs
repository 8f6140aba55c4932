using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using SlabGen.Core;
using SlabGen.PageAlloc;
using SlabGen.Policy;

namespace SlabGen;

/// <summary>
/// A slab cache (<c>struct kmem_cache</c>): objects of one size served from native memory through per-thread
/// magazines, per-node depots of full magazines, per-CPU array caches and per-node shared arrays in front of per-node
/// slab lists.
/// </summary>
/// <remarks>
/// Purpose, for a reader of the kernel: what <c>kmem_cache</c> holds (name, sizes, ctor, flags, tunables, the per-CPU
/// arrays, the nodes) is declared here, in this file, and nowhere else; the nodes own their lists and depots
/// (<see cref="KmemCacheNode"/>), the magazine registry owns the thread magazines and the steal protocol
/// (<see cref="MagazineRegistry"/>), and the other files of this class are the paths through them: allocation, free,
/// bulk, tuning, shrinking and reaping, destroy, and what the cache reports.
/// Lock order: 1. the chain mutex (<c>slab_mutex</c>) 2. the magazine registry's lock 3. the magazine handshake
/// 4. a CPU guard 5. a node's depot lock 6. a node's <c>list_lock</c> 7. the page source's lock (<see cref="LockOrder"/>).
/// </remarks>
public sealed unsafe partial class SlabCache : IDisposable
{
    /// <summary>What the inlined fast paths read: slot, tag, the object test and the free pointer.</summary>
    internal readonly FastPath Fast;

    /// <summary>Sizes, offsets and order (<c>calculate_sizes</c>, <c>calculate_order</c>).</summary>
    private readonly SlabLayout _layout;

    /// <summary>Runs on each object when its slab is populated.</summary>
    private readonly delegate*<void*, void> _ctor;

    private readonly NodeTopology _topology;

    /// <summary>One <c>kmem_cache_node</c> per memory node.</summary>
    private readonly KmemCacheNode[] _nodes;

    /// <summary>This cache's blocks in the page source.</summary>
    private readonly PageSource.PageClient _pages;

    /// <summary>The thread magazines and the steal protocol.</summary>
    private readonly MagazineRegistry _magazines;

    /// <summary>Names merged into this cache (<c>slabinfo -a</c>). Guarded by the chain mutex.</summary>
    private readonly List<string> _aliases = new();

    /// <summary>A cache that lives as long as the process (the kmalloc caches): destroy refuses it.</summary>
    private readonly bool _permanent;

    /// <summary><c>SLAB_KMALLOC</c>: a kmalloc size class, whose debug slots keep the size each request asked for.</summary>
    private readonly bool _kmalloc;

    /// <summary>Reports made about this cache's memory (slabinfo's <c>&lt;error&gt;</c>).</summary>
    private long _errors;

    /// <summary>One <see cref="CpuSlot"/> per CPU: its guard, its array, its counters.</summary>
    private CpuSlot* _cpuSlots;

    private volatile bool _disposed;

    /// <summary><c>limit</c>, <c>batchcount</c>, <c>shared</c>; replaced whole by <see cref="Tune"/> under the magazine lock.</summary>
    private Tunables _tunables;

    /// <summary>Slabs made (<c>grown</c>) and given back by reap passes (<c>reaped</c>).</summary>
    private long _grown, _reaped;

    /// <summary>Resizes the magazines to the load unless the tunables were given (see <see cref="MagazineTuner"/>).</summary>
    private readonly MagazineTuner _tuner;

    /// <summary>
    /// Slabs being populated right now (<see cref="CacheGrow"/>, which runs the ctor with no lock held). Counted
    /// under a CPU guard before the guard is dropped, so that destroy, which holds every guard, sees each one.
    /// </summary>
    private int _growing;

    /// <summary>The cache whose ctor this thread is running, if any: such a ctor must not re-enter its own cache.</summary>
    [ThreadStatic] private static SlabCache? t_populating;

    private SlabCache(string name, SlabFlags flags, in SlabLayout layout, delegate*<void*, void> ctor,
        NodeTopology topology, int slot, int tag, bool permanent, bool kmalloc, bool pinned)
    {
        _tuner = new MagazineTuner(Tunables.LimitFor(layout.Size), Tunables.AutoMaxLimit(layout.Size), pinned);
        Name = name;
        Flags = flags;
        _layout = layout;
        _ctor = ctor;
        _topology = topology;
        _permanent = permanent;
        _kmalloc = kmalloc;
        Fast = new FastPath(slot, tag, layout, NewSecret());
        _magazines = new MagazineRegistry(this);
        _nodes = new KmemCacheNode[topology.NodeCount];
        for (int node = 0; node < _nodes.Length; node++)
            _nodes[node] = new KmemCacheNode(this, node, topology.CpusOnNode(node));
        if (FaultInjection.ShouldFail())
            throw new OutOfMemoryException($"slab cache '{name}': cannot allocate its per-CPU slots (injected failure).");
        _cpuSlots = (CpuSlot*)NativeMemory.AlignedAlloc((nuint)(topology.CpuCount * sizeof(CpuSlot)), 64);
        NativeMemory.Clear(_cpuSlots, (nuint)(topology.CpuCount * sizeof(CpuSlot)));
        for (int cpu = 0; cpu < topology.CpuCount; cpu++)
            _cpuSlots[cpu].Node = topology.NodeOf(cpu);
        _pages = new PageSource.PageClient(slot, layout.Order);
    }

    /// <summary><c>s->random</c> (<c>init_cache_random_seq</c>'s source): 64 bits from the operating system's random source.</summary>
    private static ulong NewSecret()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        return BitConverter.ToUInt64(bytes);
    }

    /// <summary>Finalizer: frees the per-CPU slots of a destroyed cache once nothing can reach it.</summary>
    ~SlabCache()
    {
        if (_disposed && _cpuSlots != null)
        {
            NativeMemory.AlignedFree(_cpuSlots);
            _cpuSlots = null;
        }
    }

    /// <summary>Cache name, as slabinfo shows it.</summary>
    public string Name { get; }

    /// <summary>
    /// The flags the cache was created with, plus the debug flags <c>SLABGEN_DEBUG</c> gave it (docs/debugging.md), less
    /// any debug metadata flag its slot could not hold.
    /// </summary>
    public SlabFlags Flags { get; }

    /// <summary>The size callers asked for (<c>object_size</c>).</summary>
    public int ObjectSize => _layout.ObjectSize;

    /// <summary>Bytes per object slot, with alignment and metadata (<c>size</c>).</summary>
    public int Size => _layout.Size;

    /// <summary>Object alignment.</summary>
    public int Align => _layout.Align;

    /// <summary>Free-pointer offset within a free object (<c>offset</c>).</summary>
    public int FreePointerOffset => _layout.Offset;

    /// <summary>Each slab is 2^Order pages.</summary>
    public int Order => _layout.Order;

    /// <summary>Objects per slab (<c>num</c>).</summary>
    public int ObjectsPerSlab => _layout.ObjectsPerSlab;

    /// <summary>Per-CPU array limit.</summary>
    public int Limit => _tunables.Limit;

    /// <summary>Objects moved per refill or flush.</summary>
    public int BatchCount => _tunables.BatchCount;

    /// <summary>Shared array size, in batches.</summary>
    public int SharedFactor => _tunables.SharedFactor;

    /// <summary>Memory nodes this cache keeps lists for.</summary>
    public int NodeCount => _nodes.Length;

    /// <summary>True once <see cref="Dispose"/> has destroyed the cache.</summary>
    public bool IsDisposed => _disposed;

    internal int Slot => Fast.Slot;

    internal NodeTopology Topology => _topology;

    internal ref readonly SlabLayout Layout => ref _layout;

    internal PageSource.PageClient Pages => _pages;

    internal KmemCacheNode[] Nodes => _nodes;

    internal MagazineRegistry Magazines => _magazines;

    /// <summary>The cache takes the checked paths (a debug flag is set): no magazines, depots or per-CPU arrays in use.</summary>
    internal bool IsDebug => _layout.Debug;

    /// <summary><c>SLAB_KMALLOC</c>: a kmalloc size class.</summary>
    internal bool IsKmalloc => _kmalloc;

    /// <summary>Reports made about this cache's memory so far.</summary>
    internal long ErrorsReported => Interlocked.Read(ref _errors);

    /// <summary>Counts one report about this cache (<c>STATS_INC_ERR</c>).</summary>
    internal void CountError() => Interlocked.Increment(ref _errors);

    /// <summary>Creates a cache (<c>kmem_cache_create</c>).</summary>
    /// <param name="name">Unique name, no whitespace (slabinfo rows are split on it).</param>
    /// <param name="size">Object size in bytes, 1 to 4 MiB.</param>
    /// <param name="align">0 (natural: 8) or a power of two up to 4096.</param>
    /// <param name="flags">Creation flags.</param>
    /// <param name="ctor">Runs on each object when its slab is populated.</param>
    /// <returns>The cache; null if it could not be made and <see cref="SlabFlags.Panic"/> is not set.</returns>
    /// <exception cref="ArgumentException">A bad argument, named with the cache.</exception>
    public static SlabCache? Create(string name, int size, int align = 0, SlabFlags flags = SlabFlags.None,
        delegate*<void*, void> ctor = null)
        => Create(name, new SlabCacheOptions { Size = size, Align = align, Flags = flags, Ctor = ctor });

    /// <summary>Creates a cache with every option (<c>kmem_cache_create</c>).</summary>
    public static SlabCache? Create(string name, SlabCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        CacheChain.EnsureUp();
        using (CacheChain.Enter())
            return CreateLocked(name, options);
    }

    /// <summary>The body of <c>kmem_cache_create</c>; caller holds the chain mutex.</summary>
    internal static SlabCache? CreateLocked(string name, SlabCacheOptions options)
    {
        ValidateName(name);
        string asked = name;
        name = ScopedName(name, options.NameScope);
        NodeTopology topology = options.Topology ?? NodeTopology.Machine;
        (SlabFlags flags, SlabLayout layout) = DebugLayout(name, asked, options, topology);
        Tunables? requested = null;
        if (options.Limit != null || options.BatchCount != null || options.SharedFactor != null)
        {
            Tunables tuned = Tunables.ForSize(layout.Size, topology.CpuCount);
            int limit = options.Limit ?? tuned.Limit;
            var t = new Tunables(limit, options.BatchCount ?? Math.Min(tuned.BatchCount, limit), options.SharedFactor ?? tuned.SharedFactor);
            t.Validate(name);
            requested = t;
        }
        ThrowIfNameTaken(name);

        if (!CacheChain.TryReserveSlot(out int slot, out int tag))
            return Fail(name, options, $"{CacheChain.MaxCaches - 1} caches are live already");
        SlabCache? cache = null;
        bool installed;
        try
        {
            bool pinned = requested != null || !(options.AutoTune ?? SlabConfig.Current.AutoTune);
            cache = new SlabCache(name, flags, layout, options.Ctor, topology, slot, tag, options.Permanent, options.Kmalloc, pinned);
            // setup_cpu_cache: boot-sized arrays until the allocator is fully up, tuned ones after.
            Tunables initial = requested ?? (CacheChain.State == SlabState.Full
                ? Tunables.ForSize(layout.Size, topology.CpuCount)
                : Tunables.Boot);
            installed = cache.TryInstallArrays(initial);
            if (installed)
                CacheChain.Add(cache);
        }
        catch
        {
            // Every failure gives back what it took: arrays, CPU slots, the page client and the slot.
            cache?.Unmake();
            CacheChain.UnreserveSlot(slot);
            throw;
        }
        if (!installed)
        {
            // Given back here, outside the try: Fail may throw, and the slot must go back exactly once.
            cache.Unmake();
            CacheChain.UnreserveSlot(slot);
            return Fail(name, options, "out of memory for its per-CPU arrays");
        }
        CacheChain.FirstCacheMade();
        return cache;
    }

    /// <summary>
    /// The flags and the slot a new cache gets (<c>kmem_cache_flags</c>, then <c>calculate_sizes</c>): its own flags plus
    /// what <c>SLABGEN_DEBUG</c> says for its name; with O, no debug metadata for a cache whose order it would raise.
    /// </summary>
    private static (SlabFlags Flags, SlabLayout Layout) DebugLayout(string name, string asked, SlabCacheOptions options, NodeTopology topology)
    {
        SlabDebugOptions debug = SlabConfig.Current.Debug;
        SlabFlags flags = debug.CacheFlags(options.Flags, name, asked);
        var layout = SlabLayout.Calculate(name, options.Size, options.Align, flags, options.Ctor != null, topology.CpuCount, options.InUse, options.Kmalloc);
        if (debug.DisableHigherOrderDebug && (flags & SlabDebugOptions.MetadataFlags) != 0
            && SlabLayout.GetOrder(layout.Size) > SlabLayout.GetOrder(options.Size))
        {
            flags &= ~SlabDebugOptions.MetadataFlags;
            layout = SlabLayout.Calculate(name, options.Size, options.Align, flags, options.Ctor != null, topology.CpuCount, options.InUse, options.Kmalloc);
        }
        return ((flags & ~SlabFlagSets.Debug) | layout.DebugFlags, layout);
    }

    /// <summary>Undoes a creation that failed before the cache joined the chain. It has no slabs and no magazines.</summary>
    private void Unmake()
    {
        FreeArrays();
        _pages?.Close();
        if (_cpuSlots != null)
            NativeMemory.AlignedFree(_cpuSlots);
        _cpuSlots = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>Refuses <paramref name="name"/> when a cache or an alias has it. Caller holds the chain mutex.</summary>
    internal static void ThrowIfNameTaken(string name)
    {
        if (CacheChain.FindName(name) is { } taken)
            throw new ArgumentException(taken.Name == name
                ? $"slab cache '{name}': a cache with this name already exists."
                : $"slab cache '{name}': the name is taken by an alias merged into cache '{taken.Name}'.", nameof(name));
    }

    /// <summary>
    /// <paramref name="name"/>, or <c>name@scope</c> when the name is taken and a scope is given (see
    /// <see cref="SlabCacheOptions.NameScope"/>). Caller holds the chain mutex.
    /// </summary>
    internal static string ScopedName(string name, string? scope)
    {
        if (scope == null || CacheChain.FindName(name) == null)
            return name;
        var scoped = new System.Text.StringBuilder(name.Length + 1 + scope.Length).Append(name).Append('@');
        foreach (char c in scope)
            scoped.Append(CacheNameRules.Problem(c.ToString()) == null ? c : '_'); // a scope prints as plainly as a name
        string qualified = scoped.ToString();
        if (CacheNameRules.Problem(qualified) != null)
            throw new ArgumentException(
                $"slab cache '{name}': the name is taken, and '{qualified}' is too long to tell this cache apart; give it a name of its own.", nameof(name));
        return qualified;
    }

    private static SlabCache? Fail(string name, SlabCacheOptions options, string why)
    {
        if ((options.Flags & SlabFlags.Panic) != 0 || options.ThrowOnFailure)
            throw new InvalidOperationException($"slab cache '{name}': cannot create: {why}.");
        return null;
    }

    private static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string? problem = CacheNameRules.Problem(name);
        if (problem != null)
            throw new ArgumentException($"slab cache name {CacheNameRules.Quote(name)} {problem}.", nameof(name));
    }

    /// <summary>
    /// Allocates an object (<c>kmem_cache_alloc</c>). The memory holds what the ctor (or the last user) left there,
    /// except for the 8-byte free pointer word at <see cref="FreePointerOffset"/>, which reads 0 (it lies outside the
    /// object when the cache has a ctor, so constructed state is kept whole).
    /// </summary>
    /// <exception cref="OutOfMemoryException">The page source has no room for another slab.</exception>
    /// <exception cref="ObjectDisposedException">The cache has been destroyed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc()
    {
        void* obj = Fast.TryAlloc();
        return obj != null ? obj : AllocSlow();
    }

    /// <summary>
    /// This cache bound to the calling thread: a handle whose <see cref="SlabLocal.Alloc"/> and
    /// <see cref="SlabLocal.Free"/> skip the thread-local lookup that <see cref="Alloc"/> and <see cref="Free"/> make
    /// on every call. Make one per loop or per request, on the thread that uses it.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The thread's magazine table could not be mapped.</exception>
    public SlabLocal Local()
    {
        ThrowIfDisposed();
        return new SlabLocal(this);
    }

    /// <summary>The typed <see cref="Local"/>, for <see cref="SlabCache{T}.Local"/>.</summary>
    internal SlabLocal<T> LocalOf<T>() where T : unmanaged
    {
        ThrowIfDisposed();
        return new SlabLocal<T>(this);
    }

    /// <summary>Frees an object (<c>kmem_cache_free</c>); null is ignored.</summary>
    /// <exception cref="ArgumentException"><paramref name="obj"/> is not an object of this cache, or was never handed out.</exception>
    /// <exception cref="DoubleFreeException"><paramref name="obj"/> is already free; nothing changed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* obj)
    {
        if (obj == null)
            return;
        if (!Fast.IsObject(obj))
            NotOnFastPath(obj);
        if (!Fast.TryFree(obj))
            FreeSlow(obj);
    }

    /// <summary>True when <paramref name="obj"/> is the address of an object slot of this cache (allocated or not).</summary>
    public bool Contains(void* obj) => obj != null && (Fast.IsObject(obj) || (IsDebug && IsDebugObject(obj)));

    /// <summary>
    /// A pointer the inlined free's object test refused. For a debug cache, whose fast path refuses every pointer, this
    /// returns: the inlined free goes on, its magazine push fails (a debug cache has no magazine), and
    /// <see cref="FreeSlow"/> takes the checked path, which tells its objects from anything else. For any other cache
    /// the pointer is not one of its objects, and this throws (<see cref="ThrowNotOurs"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void NotOnFastPath(void* obj)
    {
        if (!IsDebug)
            ThrowNotOurs(obj);
    }

    /// <summary>Refuses <paramref name="obj"/>, which is not an object of this cache, saying what it is; reads only the page source's tables.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void ThrowNotOurs(void* obj)
    {
        ThrowIfDisposed(); // a destroyed cache has no objects: say so rather than describe the pointer
        int arena = PageSource.ArenaOf(obj);
        int page = PageSource.PageOwnerOf(obj);
        string where = arena < 0 ? "it was never handed out by SlabGen"
            : page == Fast.Slot ? "it is not the start of an object"
            : page == PageSource.OwnerLarge ? "it is a large kmalloc block"
            : page != PageSource.OwnerNone ? $"it belongs to cache '{CacheChain.BySlot(page)?.Name}'"
            : PageSource.ArenaOwner[arena] == Fast.Slot ? "it lies in a block this cache does not hold as a slab now: its slab was given back after its objects were freed (a double free, or a pointer kept after free), or it was never handed out"
            : "it points into memory no cache holds (freed and given back, or never handed out)";
        throw new ArgumentException($"slab cache '{Name}': cannot free 0x{(nuint)obj:x}: {where}.", nameof(obj));
    }

    /// <summary>Why a free of a slot not handed out since its slab was made is refused.</summary>
    internal string NotHandedOutMessage(void* obj)
        => $"slab cache '{Name}': cannot free 0x{(nuint)obj:x}: it has not been handed out since its slab was made (a pointer that was never allocated, or one kept from an earlier slab at this address).";

    private void ThrowIfDisposed()
    {
        if (_disposed)
            throw new ObjectDisposedException(nameof(SlabCache), $"slab cache '{Name}' has been destroyed.");
    }

    /// <summary>Refuses an operation on this cache from inside its own ctor, which would deadlock or recurse.</summary>
    private void ThrowIfPopulating(string operation)
    {
        if (t_populating == this)
            throw new InvalidOperationException(
                $"slab cache '{Name}': its constructor called {operation} on the cache it is constructing objects for; a ctor must not allocate from, free to, shrink, tune, reap or destroy its own cache.");
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} (object {ObjectSize} B, slot {Size} B, {ObjectsPerSlab}/slab, order {Order})";
}
