using System;
using System.Threading;
using SlabGen.Core;

namespace SlabGen;

// kmem_cache_alloc_bulk / kmem_cache_free_bulk: many objects per call, one thread-local lookup, magazine copies.
public sealed unsafe partial class SlabCache
{
    /// <summary>
    /// Allocates <c>objects.Length</c> objects into <paramref name="objects"/> (<c>kmem_cache_alloc_bulk</c>): runs of
    /// them are copied out of this thread's magazine at once, and the magazine is refilled by the slow path (a sheaf
    /// from the barn, else a batch from the per-CPU array). All or nothing: if the cache cannot grow, the objects
    /// taken so far go back and the exception propagates.
    /// </summary>
    public void AllocBulk(Span<nint> objects)
    {
        int done = 0;
        try
        {
            while (done < objects.Length)
            {
                done += TakeFromMagazine(objects.Slice(done));
                if (done < objects.Length)
                    objects[done++] = (nint)AllocSlow(); // refills the magazine
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
    /// <c>Free(null)</c>. Every pointer is checked before any is freed, so a bad one frees nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A pointer is not an object of this cache; nothing was freed.</exception>
    public void FreeBulk(ReadOnlySpan<nint> objects)
    {
        foreach (nint p in objects)
            if (p != 0 && !Fast.IsObject((void*)p))
                ThrowNotOurs((void*)p);
        int done = 0;
        while (done < objects.Length)
        {
            done += PutInMagazine(objects.Slice(done));
            if (done < objects.Length)
            {
                nint p = objects[done++];
                if (p != 0)
                    FreeSlow((void*)p); // empties the full magazine into the barn, or flushes a batch of it
            }
        }
    }

    /// <summary>Copies as many objects as this thread's magazine has into <paramref name="into"/>; returns how many.</summary>
    private int TakeFromMagazine(Span<nint> into)
    {
        Magazine* m = ThreadMagazines.Entry(Fast.Slot);
        Volatile.Write(ref m->InUse, 1);
        int n = 0;
        if (Volatile.Read(ref m->Tag) == Fast.Tag)
        {
            n = Math.Min(m->Avail, into.Length);
            // Pop order: the most recently freed first, as n single Allocs would.
            void** top = Magazine.Entry(m) + m->Avail;
            for (int i = 0; i < n; i++)
                into[i] = (nint)top[-1 - i];
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
