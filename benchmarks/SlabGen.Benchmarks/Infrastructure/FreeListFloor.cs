using System;
using System.Runtime.InteropServices;

namespace SlabGen.Benchmarks.Infrastructure;

/// <summary>
/// The floor: the least any allocator can do for a hot alloc+free pair. A thread-local intrusive free list of
/// fixed-size blocks: a <c>[ThreadStatic]</c> head pointer, the next pointer stored in the first word of each free
/// block, blocks carved once from a pre-allocated native arena. A pop loads the head block's next pointer, a push
/// stores the head into the block; no size class, no slab, no check, no way to give memory back. The scenarios inline
/// pop and push in their loops. The heads are fields of this non-generic class, so the JIT's inlined thread-static
/// access applies (a generic class's thread statics go through a slower helper).
/// </summary>
public static unsafe class FreeListFloor
{
    /// <summary>Blocks per thread and size: the hot and split pairs only ever use one at a time.</summary>
    public const int ArenaBlocks = 64;

    /// <summary>This thread's first free 64-byte block, or null before its first <see cref="Head64"/>.</summary>
    [ThreadStatic] public static void* t_head64;

    /// <summary>This thread's first free 256-byte block, or null before its first <see cref="Head256"/>.</summary>
    [ThreadStatic] public static void* t_head256;

    /// <summary>This thread's 64-byte list head, carved from a fresh arena on the thread's first call.</summary>
    public static void* Head64() => t_head64 != null ? t_head64 : t_head64 = Carve(64);

    /// <summary>This thread's 256-byte list head, carved from a fresh arena on the thread's first call.</summary>
    public static void* Head256() => t_head256 != null ? t_head256 : t_head256 = Carve(256);

    /// <summary>An arena of <see cref="ArenaBlocks"/> blocks (64-byte aligned, kept for the life of the process) threaded into a list.</summary>
    private static void* Carve(nuint size)
    {
        byte* arena = (byte*)NativeMemory.AlignedAlloc(ArenaBlocks * size, 64);
        void* head = null;
        for (int i = ArenaBlocks - 1; i >= 0; i--)
        {
            void* block = arena + (nuint)i * size;
            *(void**)block = head;
            head = block;
        }
        return head;
    }
}
