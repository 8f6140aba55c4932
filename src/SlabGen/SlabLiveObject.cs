namespace SlabGen;

/// <summary>
/// An object of a cache that is allocated now, as <see cref="SlabCache.GetLiveObjects"/> found it: its address, the
/// size its kmalloc caller asked for (the object size for other caches), and, for a <see cref="SlabFlags.StoreUser"/>
/// cache, who allocated it.
/// </summary>
/// <param name="Address">The object's address.</param>
/// <param name="RequestedSize">The bytes a kmalloc request asked for on a debug kmalloc cache; the object size otherwise.</param>
/// <param name="Allocated">The allocation's track; null when the cache does not keep tracks (no <see cref="SlabFlags.StoreUser"/>).</param>
public readonly record struct SlabLiveObject(nuint Address, int RequestedSize, SlabTrack? Allocated);
