using System;
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading;

namespace SlabGen;

/// <summary>
/// A <see cref="MemoryPool{T}"/> of native blocks from a slab cache of its own, for <c>System.IO.Pipelines</c>
/// (<c>new PipeOptions(pool: ...)</c>), sockets and anything else that rents <see cref="IMemoryOwner{T}"/>s. Blocks
/// are <see cref="BlockSize"/> bytes (4 KiB by default, as Kestrel's <c>PinnedBlockMemoryPool</c>); requests above
/// it, up to <see cref="MaxBufferSize"/>, come from kmalloc. The memory never moves, so pinning it is free, and the
/// GC neither sees nor scans it.
/// </summary>
/// <remarks>
/// <para>Renting and returning allocate no managed memory once the pool has warmed up: the owners are pooled, in a
/// magazine per thread in front of a depot shared by all (<c>OwnerMagazine</c>, <c>OwnerDepot</c>), so that a rent and a
/// return on one thread take no lock and no atomic instruction but the owner's own lease. Disposing an owner twice,
/// or using it or a <see cref="Memory{T}"/> made from it after it was disposed, throws
/// <see cref="ObjectDisposedException"/> naming the pool, and never frees its block twice. An owner is handed out
/// again only after <see cref="SlabMemoryPoolOptions.Quarantine"/> others have been returned after it on the thread
/// that returned it: a stale reference is caught until then, and after that it cannot be told from the new renter's.
/// A <see cref="Span{T}"/> taken from the block is a bare pointer, and is not checked at all.</para>
/// <para>Disposing the pool destroys its slab cache; it is refused while blocks are rented.</para>
/// </remarks>
public sealed unsafe class SlabMemoryPool : MemoryPool<byte>
{
    /// <summary>The default block size: 4 KiB, one page, as Kestrel's pool.</summary>
    public const int DefaultBlockSize = 4096;

    /// <summary>The default <see cref="SlabMemoryPoolOptions.Quarantine"/>.</summary>
    public const int DefaultQuarantine = 64;

    /// <summary>The largest <see cref="SlabMemoryPoolOptions.Quarantine"/>: each thread that returns owners keeps that many.</summary>
    public const int MaxQuarantine = 4096;

    private const int AnySize = -1;

    private static readonly Lock s_naming = new();

    /// <summary>This thread's magazine of each pool, by its cache's slot; an entry whose pool is another is stale.</summary>
    [ThreadStatic] private static OwnerMagazine?[]? t_magazines;

    /// <summary>Owners past their quarantine, and the list of every thread's magazine.</summary>
    private readonly OwnerDepot _depot = new();

    /// <summary>Owners alive: rented, or waiting in a magazine or the depot.</summary>
    private long _owners;

    /// <summary>
    /// The cache's inlined fast path (<see cref="SlabCache.Fast"/>), used with each owner magazine's slab table as a
    /// <see cref="SlabLocal"/> handle uses it; its slot is this pool's index in <see cref="t_magazines"/>.
    /// </summary>
    private readonly Core.FastPath _fast;

    private readonly int _quarantine;
    private readonly bool _isShared;
    private volatile bool _disposed;

    /// <summary>A pool of 4 KiB blocks with its own slab cache.</summary>
    public SlabMemoryPool()
        : this(new SlabMemoryPoolOptions())
    {
    }

    /// <summary>A pool of <paramref name="blockSize"/>-byte blocks with its own slab cache.</summary>
    public SlabMemoryPool(int blockSize)
        : this(new SlabMemoryPoolOptions { BlockSize = blockSize })
    {
    }

    /// <summary>A pool configured by <paramref name="options"/>, with its own slab cache.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or the quarantine is out of range.</exception>
    /// <exception cref="ArgumentException">The name is taken or not a valid cache name.</exception>
    public SlabMemoryPool(SlabMemoryPoolOptions options)
        : this(options, shared: false)
    {
    }

    private SlabMemoryPool(SlabMemoryPoolOptions options, bool shared)
    {
        ArgumentNullException.ThrowIfNull(options);
        string label = options.Name ?? "memory pool";
        if (options.BlockSize < 1 || options.BlockSize > Kmalloc.MaxSize)
            throw new ArgumentOutOfRangeException(nameof(options), options.BlockSize,
                $"{label}: block size {options.BlockSize} is outside 1..{Kmalloc.MaxSize} bytes.");
        int max = options.MaxBufferSize == 0 ? options.BlockSize : options.MaxBufferSize;
        if (max < options.BlockSize || max > Kmalloc.MaxSize)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxBufferSize,
                $"{label}: MaxBufferSize {options.MaxBufferSize} is outside {options.BlockSize} (the block size)..{Kmalloc.MaxSize} bytes.");
        if (options.Quarantine < 0 || options.Quarantine > MaxQuarantine)
            throw new ArgumentOutOfRangeException(nameof(options), options.Quarantine,
                $"{label}: the quarantine {options.Quarantine} is outside 0..{MaxQuarantine} owners.");
        if ((options.Flags & SlabFlags.Merge) != 0)
            throw new ArgumentException($"{label}: SlabFlags.Merge does not apply to a memory pool: its cache is its own, so that Dispose can destroy it.", nameof(options));
        BlockSize = options.BlockSize;
        MaxBufferSize = max;
        _quarantine = options.Quarantine;
        _isShared = shared;
        lock (s_naming)
        {
            string name = options.Name ?? FreeName(BlockSize);
            Cache = SlabCache.Create(name, new SlabCacheOptions
            {
                Size = BlockSize,
                Flags = SlabFlags.HwCacheAlign | SlabFlags.Panic | options.Flags,
            })!;
        }
        _fast = Cache.Fast;
    }

    /// <summary>
    /// A pool of 4 KiB blocks for the whole process, made on first use (cache <c>memorypool-4k</c> unless that name
    /// was taken first). Disposing it does nothing, as with <see cref="MemoryPool{T}.Shared"/>.
    /// </summary>
    public static new SlabMemoryPool Shared => SharedPool.Instance;

    /// <summary>The largest request <see cref="Rent"/> serves.</summary>
    public override int MaxBufferSize { get; }

    /// <summary>Bytes per block: what <c>Rent()</c> hands out, and the object size of <see cref="Cache"/>.</summary>
    public int BlockSize { get; }

    /// <summary>The slab cache the blocks come from; slabinfo lists it under <see cref="Name"/>.</summary>
    public SlabCache Cache { get; }

    /// <summary>The cache's name: <c>memorypool-4k</c>, <c>memorypool-4k-2</c>, ... unless the options named it.</summary>
    public string Name => Cache.Name;

    /// <summary>Blocks rented and not yet returned. Exact when no other thread is renting or returning.</summary>
    public long Rented => Math.Max(0, Volatile.Read(ref _owners) - _depot.Waiting());

    /// <summary>Owner objects the pool has made and still holds or has out: the most ever rented at once, plus the quarantine.</summary>
    public long Owners => Volatile.Read(ref _owners);

    /// <summary>The most returned owners one thread's magazine keeps (the quarantine and two batches).</summary>
    internal int MagazineCapacity => OwnerMagazine.CapacityFor(_quarantine);

    /// <summary>True once <see cref="MemoryPool{T}.Dispose()"/> has destroyed the pool.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// Rents a block of at least <paramref name="minBufferSize"/> bytes (Kestrel's <c>PinnedBlockMemoryPool.Rent</c>):
    /// a whole block up to <see cref="BlockSize"/> (and for -1, the default), a kmalloc object above it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minBufferSize"/> is above <see cref="MaxBufferSize"/>, or negative other than -1.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = AnySize)
    {
        int size = minBufferSize == AnySize ? BlockSize : minBufferSize;
        if ((uint)size > (uint)MaxBufferSize)
            ThrowTooLarge(minBufferSize);
        // A rent that races Dispose past this test finds the cache destroyed (its Alloc throws), or has its block
        // counted by the cache, which then refuses to be destroyed; a kmalloc block rented in that window goes back
        // to kmalloc when its owner is returned.
        if (_disposed)
            ThrowPoolDisposed();
        OwnerMagazine magazine = LocalMagazine();
        // The block first: a failed allocation has taken nothing that would need giving back, so the hot path
        // carries no exception handler.
        byte* block;
        int length;
        bool kmalloc = size > BlockSize;
        if (!kmalloc)
        {
            block = (byte*)SlabLocal.AllocThrough(in _fast, magazine.Table, Cache);
            length = BlockSize;
        }
        else
        {
            block = (byte*)Kmalloc.Alloc((nuint)size);
            length = (int)Kmalloc.Ksize(block);
        }
        SlabMemoryBlock owner = magazine.Take(_depot) ?? NewOwner(magazine, block, kmalloc);
        owner.Start(block, length, kmalloc);
        return owner;
    }

    /// <summary>
    /// A new owner: neither this thread's magazine nor the depot has one ready. If it cannot be made, the block
    /// just allocated for it goes back.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private SlabMemoryBlock NewOwner(OwnerMagazine magazine, byte* block, bool kmalloc)
    {
        SlabMemoryBlock owner;
        try
        {
            owner = new SlabMemoryBlock(this);
        }
        catch
        {
            FreeBlock(magazine, block, kmalloc);
            throw;
        }
        Interlocked.Increment(ref _owners);
        return owner;
    }

    /// <summary>
    /// Ends a lease the owner has just closed: its block goes back (to the cache through this thread's magazine
    /// table, or to kmalloc) and the owner into this thread's magazine.
    /// </summary>
    internal void Return(SlabMemoryBlock owner, byte* block, bool kmalloc)
    {
        OwnerMagazine magazine = LocalMagazine();
        FreeBlock(magazine, block, kmalloc);
        magazine.Put(owner, _depot);
    }

    /// <summary>Gives a block back: to the cache through this thread's magazine table, or to kmalloc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FreeBlock(OwnerMagazine magazine, byte* block, bool kmalloc)
    {
        if (kmalloc)
            Kmalloc.Free(block);
        else
            SlabLocal.FreeThrough(in _fast, magazine.Table, Cache, block);
    }

    /// <summary>This thread's magazine for this pool, made and registered on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private OwnerMagazine LocalMagazine()
    {
        OwnerMagazine?[]? table = t_magazines;
        if (table != null && (uint)_fast.Slot < (uint)table.Length)
        {
            OwnerMagazine? m = table[_fast.Slot];
            if (m != null && ReferenceEquals(m.Pool, this))
                return m;
        }
        return RegisterMagazine();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private OwnerMagazine RegisterMagazine()
    {
        OwnerMagazine?[]? table = t_magazines;
        if (table == null || table.Length <= _fast.Slot)
        {
            Array.Resize(ref table, Math.Max(_fast.Slot + 1, Math.Min(2 * (table?.Length ?? 4), Core.CacheChain.MaxCaches)));
            t_magazines = table;
        }
        var m = new OwnerMagazine(this, _quarantine);
        int dropped = _depot.Register(m);
        if (dropped != 0)
            Interlocked.Add(ref _owners, -dropped);
        table[_fast.Slot] = m;
        return m;
    }

    /// <summary>Destroys the pool's slab cache; the shared pool ignores it.</summary>
    /// <exception cref="InvalidOperationException">Blocks are still rented; the pool stays usable.</exception>
    protected override void Dispose(bool disposing)
    {
        if (_isShared)
            return;
        lock (s_naming)
        {
            if (_disposed)
                return;
            _disposed = true;
            Interlocked.MemoryBarrier();
            long rented = Rented;
            if (rented != 0)
            {
                _disposed = false;
                ThrowStillRented(rented);
            }
            try
            {
                Cache.Dispose(); // the authority: it refuses while any block is allocated
            }
            catch (InvalidOperationException refused)
            {
                // A rent that raced the count above, or another thread populating a slab: the pool stays usable.
                _disposed = false;
                throw new InvalidOperationException($"memory pool '{Name}': cannot dispose: {refused.Message}", refused);
            }
            _depot.Clear();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({BlockSize}-byte blocks, up to {MaxBufferSize} bytes, {Rented} rented)";

    /// <summary><c>memorypool-4k</c>, or the first of <c>memorypool-4k-2</c>, <c>-3</c>, ... that no cache has. Caller holds <see cref="s_naming"/>.</summary>
    private static string FreeName(int blockSize)
    {
        string stem = "memorypool-" + (blockSize % 1024 == 0
            ? (blockSize / 1024).ToString(CultureInfo.InvariantCulture) + "k"
            : blockSize.ToString(CultureInfo.InvariantCulture));
        string name = stem;
        for (int n = 2; SlabAllocator.Find(name) != null; n++)
            name = stem + "-" + n.ToString(CultureInfo.InvariantCulture);
        return name;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowTooLarge(int minBufferSize)
        => throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, minBufferSize < 0
            ? $"memory pool '{Name}': {minBufferSize} is not a size; pass -1 for a block of the default size."
            : $"memory pool '{Name}': cannot rent {minBufferSize} bytes; the largest buffer is {MaxBufferSize} bytes (MaxBufferSize).");

    [DoesNotReturn]
    private void ThrowStillRented(long rented)
        => throw new InvalidOperationException(
            $"memory pool '{Name}': cannot dispose: {rented} block{(rented == 1 ? " is" : "s are")} still rented; dispose every IMemoryOwner<byte> first.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowPoolDisposed()
        => throw new ObjectDisposedException(Name, $"memory pool '{Name}' has been disposed.");

    /// <summary>Holds <see cref="Shared"/>: the type initializer makes it once, thread-safely, on first use.</summary>
    private static class SharedPool
    {
        internal static readonly SlabMemoryPool Instance = new(new SlabMemoryPoolOptions(), shared: true);
    }
}
