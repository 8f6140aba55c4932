namespace SlabGen.Policy;

/// <summary>Sets of <see cref="SlabFlags"/> the runtime and the <c>[SlabCache]</c> generator both test.</summary>
internal static class SlabFlagSets
{
    /// <summary>
    /// <c>SLAB_DEBUG_FLAGS</c>: the flags that send a cache down the checked paths and keep it from merging
    /// (<c>SLAB_NEVER_MERGE</c>), at run time and, for <see cref="SlabFlags.Merge"/>, at compile time.
    /// </summary>
    public const SlabFlags Debug = SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison | SlabFlags.StoreUser | SlabFlags.Trace;
}
