using System.Runtime.CompilerServices;
using SlabGen.Core;

namespace SlabGen;

/// <summary>
/// <see cref="Kmalloc"/> bound to the calling thread: it reads the thread's magazine table once, when it is made,
/// so a loop that allocates and frees through it pays no thread-local lookup per operation. As a <c>ref struct</c> it
/// never leaves the thread that made it. Get one from <see cref="Kmalloc.Local"/>; it checks what
/// <see cref="Kmalloc"/> checks.
/// </summary>
public readonly unsafe ref struct KmallocLocal
{
    private readonly nint* _table;

    internal KmallocLocal(nint* table) => _table = table;

    /// <summary>Allocates <paramref name="size"/> bytes (<c>kmalloc</c>); see <see cref="Kmalloc.Alloc"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void* Alloc(nuint size) => Kmalloc.AllocFrom(_table, size);

    /// <summary>Frees memory from <see cref="Kmalloc"/> (<c>kfree</c>); see <see cref="Kmalloc.Free(void*)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* p) => Kmalloc.FreeFrom(_table, p);

    /// <summary>Frees memory allocated with <paramref name="size"/> bytes; see <see cref="Kmalloc.Free(void*, nuint)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(void* p, nuint size) => Kmalloc.FreeFrom(_table, p, size);
}
