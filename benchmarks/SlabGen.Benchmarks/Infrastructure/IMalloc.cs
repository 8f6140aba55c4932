namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// A malloc/free pair as a type, so that one generic loop serves every allocator: each implementation is a struct,
/// and the JIT (or the AOT compiler) compiles the loop once per struct with the calls inlined, exactly as if the
/// loop had been written out for that allocator.
/// </summary>
public unsafe interface IMalloc
{
    /// <summary>Throws, naming the allocator and what to install, when it cannot run. Called once per invocation.</summary>
    static abstract void Require();

    static abstract void* Malloc(nuint size);

    static abstract void Free(void* p);

    /// <summary>A sized free: <paramref name="size"/> is what <see cref="Malloc"/> was asked for.</summary>
    static abstract void FreeSized(void* p, nuint size);
}
