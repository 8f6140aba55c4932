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
    /// Checks that every pointer of <paramref name="objects"/> is an object of this cache and marks it free, first
    /// checking that it is not free already; on the first that fails (not ours, a double free, or a second copy in
    /// the span), every mark made is undone, the words as they were, and the free is refused. A pointer is tested
    /// before its memory is read.
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
            for (int from = 0; ;)
            {
                int at = MarkFrom(objects, saved, from);
                if (at == objects.Length)
                    return;
                // Not ours, or its word looks free: undo every mark before anything can throw.
                UnmarkBulk(objects.Slice(0, at), saved);
                void* obj = (void*)objects[at];
                if (!Fast.IsObject(obj))
                    ThrowNotOurs(obj);
                if (objects.Slice(0, at).Contains(objects[at]))
                    throw new DoubleFreeException(Name, (nuint)obj,
                        $"slab cache '{Name}': double free of 0x{(nuint)obj:x}: it appears twice in one FreeBulk call; nothing was freed.");
                CheckDoubleFree(obj); // throws unless its word looked free by chance
                for (int j = 0; j < at; j++) // chance: mark again what was undone, and this one, and go on
                    if (objects[j] != 0)
                        *fp.Word((void*)objects[j]) = fp.Key((void*)objects[j]);
                saved[at] = *fp.Word(obj);
                *fp.Word(obj) = fp.Key(obj);
                from = at + 1;
            }
        }
        finally
        {
            if (rented != null)
                ArrayPool<ulong>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Saves and marks free the objects of <paramref name="objects"/> from <paramref name="from"/> on, up to the first
    /// that is not an object of this cache or whose word looks free already: its index, or the span's length. Kept
    /// apart from <see cref="MarkAllFree"/>'s exception handling, which would hold this loop's values in memory.
    /// </summary>
    private int MarkFrom(ReadOnlySpan<nint> objects, Span<ulong> saved, int from)
    {
        FreePointer fp = Fast.Fp;
        for (int i = from; i < objects.Length; i++)
        {
            void* obj = (void*)objects[i];
            if (obj == null)
                continue;
            if (!Fast.IsObject(obj))
                return i;
            ulong* word = fp.Word(obj);
            ulong key = fp.Key(obj);
            if (fp.LooksFreeFor(key, *word))
                return i;
            saved[i] = *word;
            *word = key;
        }
        return objects.Length;
    }

    /// <summary>Puts back the words <see cref="MarkAllFree"/> saved for <paramref name="marked"/>, last first.</summary>
    private void UnmarkBulk(ReadOnlySpan<nint> marked, ReadOnlySpan<ulong> saved)
    {
        FreePointer fp = Fast.Fp;
        for (int j = marked.Length - 1; j >= 0; j--)
            if (marked[j] != 0)
                *fp.Word((void*)marked[j]) = saved[j];
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
