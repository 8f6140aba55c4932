using System;
using System.Buffers;
using System.Threading;
using SlabGen.Core;

namespace SlabGen;

// kmem_cache_alloc_bulk / kmem_cache_free_bulk: many objects per call, one thread-local lookup, magazine copies.
public sealed unsafe partial class SlabCache
{
    /// <summary>Pointers a bulk free checks and marks with a buffer on the stack; longer calls rent one.</summary>
    private const int BulkStackWords = 256;

    /// <summary>
    /// Allocates <c>objects.Length</c> objects into <paramref name="objects"/> (<c>kmem_cache_alloc_bulk</c>): runs of
    /// them are copied out of this thread's magazine at once, and the magazine is refilled by the slow path (a full magazine
    /// from the depot, else a batch from the per-CPU array). All or nothing: if the cache cannot grow, the objects
    /// taken so far go back and the exception propagates.
    /// </summary>
    public void AllocBulk(Span<nint> objects)
    {
        ThrowIfPopulating(nameof(AllocBulk));
        int done = 0;
        try
        {
            while (done < objects.Length)
            {
                if (!IsDebug) // a debug cache has no magazine: each object takes the checked path
                    done += TakeFromMagazine(objects.Slice(done));
                if (done < objects.Length)
                    objects[done++] = (nint)AllocSlow(); // refills the magazine (and drops any damaged top entry)
            }
        }
        catch
        {
            FreeBulk(objects.Slice(0, done));
            objects.Slice(0, done).Clear();
            throw;
        }
    }

    /// <summary>
    /// Frees every object in <paramref name="objects"/> (<c>kmem_cache_free_bulk</c>); zeros are skipped, like
    /// <c>Free(null)</c>. Every pointer is checked, and marked free, before any is freed: a bad one, an object already
    /// free, or one that appears twice in the span frees nothing and leaves every object as it was.
    /// </summary>
    /// <exception cref="ArgumentException">A pointer is not an object of this cache; nothing was freed.</exception>
    /// <exception cref="DoubleFreeException">An object is already free, or is listed twice; nothing was freed.</exception>
    public void FreeBulk(ReadOnlySpan<nint> objects)
    {
        ThrowIfDisposed();
        ThrowIfPopulating(nameof(FreeBulk));
        if (IsDebug)
        {
            DebugFreeBulk(objects);
            return;
        }
        foreach (nint p in objects)
            if (p != 0 && !Fast.IsObject((void*)p))
                ThrowNotOurs((void*)p);
        MarkAllFree(objects);
        int done = 0;
        while (done < objects.Length)
        {
            done += PutInMagazine(objects.Slice(done));
            if (done < objects.Length)
            {
                nint p = objects[done++];
                if (p != 0)
                    FreeMarked((void*)p); // empties the full magazine into the depot, or flushes a batch of it
            }
        }
        SlabErrors.Flush();
    }

    /// <summary>
    /// Marks every object of <paramref name="objects"/> free, first checking that none is free already; on the first
    /// that is (a double free, or a second copy in the span), every mark made is undone, the words as they were, and the
    /// free is refused.
    /// </summary>
    private void MarkAllFree(ReadOnlySpan<nint> objects)
    {
        ulong[]? rented = null;
        Span<ulong> saved = objects.Length <= BulkStackWords
            ? stackalloc ulong[BulkStackWords]
            : (rented = ArrayPool<ulong>.Shared.Rent(objects.Length));
        try
        {
            FreePointer fp = Fast.Fp;
            for (int i = 0; i < objects.Length; i++)
            {
                void* obj = (void*)objects[i];
                if (obj == null)
                    continue;
                ulong* word = fp.Word(obj);
                if (fp.LooksFree(obj, *word))
                {
                    for (int j = i - 1; j >= 0; j--)
                        if (objects[j] != 0)
                            *fp.Word((void*)objects[j]) = saved[j];
                    if (objects.Slice(0, i).Contains(objects[i]))
                        throw new DoubleFreeException(Name, (nuint)obj,
                            $"slab cache '{Name}': double free of 0x{(nuint)obj:x}: it appears twice in one FreeBulk call; nothing was freed.");
                    CheckDoubleFree(obj); // throws unless its word looked free by chance
                    for (int j = 0; j < i; j++) // chance: mark again what was undone, and go on
                        if (objects[j] != 0)
                            *fp.Word((void*)objects[j]) = fp.Key((void*)objects[j]);
                }
                saved[i] = *word;
                *word = fp.Key(obj);
            }
        }
        finally
        {
            if (rented != null)
                ArrayPool<ulong>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Copies as many objects as this thread's magazine has into <paramref name="into"/>, clearing each one's free
    /// mark; stops at an object whose mark is damaged (the slow path drops it). Returns how many.
    /// </summary>
    private int TakeFromMagazine(Span<nint> into)
    {
        Magazine* m = ThreadMagazines.Entry(Fast.Slot);
        Volatile.Write(ref m->InUse, 1);
        int n = 0;
        if (Volatile.Read(ref m->Tag) == Fast.Tag)
        {
            int max = Math.Min(m->Avail, into.Length);
            // Pop order: the most recently freed first, as n single Allocs would.
            void** top = Magazine.Entry(m) + m->Avail;
            while (n < max && TakeIfMarked(top[-1 - n]))
            {
                into[n] = (nint)top[-1 - n];
                n++;
            }
            m->Count += n * Magazine.OneAlloc;
        }
        Volatile.Write(ref m->InUse, 0);
        return n;
    }

    /// <summary>Copies as many objects as this thread's magazine has room for; zeros count as done. Returns how many were consumed.</summary>
    private int PutInMagazine(ReadOnlySpan<nint> from)
    {
        Magazine* m = ThreadMagazines.Entry(Fast.Slot);
        Volatile.Write(ref m->InUse, 1);
        int consumed = 0;
        if (Volatile.Read(ref m->Tag) == Fast.Tag)
        {
            void** entries = Magazine.Entry(m);
            int avail = m->Avail;
            while (consumed < from.Length && (avail < m->Limit || from[consumed] == 0))
            {
                nint p = from[consumed++];
                if (p != 0)
                    entries[avail++] = (void*)p;
            }
            m->Avail = avail; // each push counts as a magazine free hit, as a single Free's does
        }
        Volatile.Write(ref m->InUse, 0);
        return consumed;
    }
}
