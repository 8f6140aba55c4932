namespace SlabGen;

/// <summary>How far the allocator has come up (<c>enum slab_state</c>).</summary>
public enum SlabState
{
    /// <summary>No slab functionality yet.</summary>
    Down,

    /// <summary>The page source is up; the first caches are being made.</summary>
    Partial,

    /// <summary>The kmalloc caches the node structures need exist (kept for the kernel's sequence).</summary>
    PartialNode,

    /// <summary>Caches are usable, with boot-sized per-CPU arrays.</summary>
    Up,

    /// <summary><c>kmem_cache_init_late</c> has tuned every cache: everything is working.</summary>
    Full,
}
