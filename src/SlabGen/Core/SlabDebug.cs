using System;
using System.Collections.Generic;
using SlabGen.PageAlloc;

namespace SlabGen.Core;

/// <summary>
/// The object checks of a debug cache, as SLUB makes them (mm/slub.c under <c>CONFIG_SLUB_DEBUG</c>): how a slot is
/// initialised when free and when allocated (<c>init_object</c>), how its red zones, poison and padding are checked
/// (<c>check_object</c>, <c>check_bytes_and_report</c>, <c>check_pad_bytes</c>, <c>slab_pad_check</c>), and how damage is
/// described (<c>print_trailer</c>) and traced (<c>trace</c>). Every method works on one slab whose node's list lock the
/// caller holds (or a slab nobody else can see yet); reports are only queued.
/// </summary>
internal static unsafe class SlabDebug
{
    /// <summary><c>SLUB_RED_INACTIVE</c>: the red zones of a free object.</summary>
    public const byte RedInactive = 0xbb;

    /// <summary><c>SLUB_RED_ACTIVE</c>: the red zones of an allocated object.</summary>
    public const byte RedActive = 0xcc;

    /// <summary><c>POISON_INUSE</c>: padding, and whole new slabs under P.</summary>
    public const byte PoisonInuse = 0x5a;

    /// <summary><c>POISON_FREE</c>: the bytes of a free object under P.</summary>
    public const byte PoisonFree = 0x6b;

    /// <summary><c>POISON_END</c>: the last byte of a free object under P.</summary>
    public const byte PoisonEnd = 0xa5;

    /// <summary>Bytes of an object a trailer dumps at most (the kernel's <c>PAGE_SIZE</c>).</summary>
    private const int MaxDump = PageSource.PageSize;

    /// <summary><c>setup_slab_debug</c>: a new slab under P is filled with <see cref="PoisonInuse"/>, so its padding and leftover tail are known.</summary>
    public static void SetupSlab(in SlabLayout layout, byte* slabBase)
    {
        if ((layout.DebugFlags & SlabFlags.Poison) != 0)
            new Span<byte>(slabBase, layout.SlabBytes).Fill(PoisonInuse);
    }

    /// <summary><c>setup_object_debug</c>: a new object starts free (<see cref="RedInactive"/>, poisoned) with both tracks clear.</summary>
    public static void SetupObject(in SlabLayout layout, byte* obj)
    {
        InitObject(layout, obj, RedInactive);
        if ((layout.DebugFlags & SlabFlags.StoreUser) != 0)
            Track.Init(layout, obj);
    }

    /// <summary>
    /// <c>init_object</c>: the left red zone, the poison (up to the kmalloc request size while allocated) and the right
    /// red zone, which for an allocated kmalloc object starts at the request size.
    /// </summary>
    public static void InitObject(in SlabLayout layout, byte* obj, byte val)
    {
        bool redZone = (layout.DebugFlags & SlabFlags.RedZone) != 0;
        int poisonSize = layout.ObjectSize;
        if (redZone)
        {
            new Span<byte>(obj - layout.RedLeftPad, layout.RedLeftPad).Fill(val);
            if (layout.TracksOrigSize && val == RedActive)
                poisonSize = GetOrigSize(layout, obj); // the kmalloc red zone: the bytes past the request
        }
        if (layout.PoisonObject)
        {
            new Span<byte>(obj, poisonSize - 1).Fill(PoisonFree);
            obj[poisonSize - 1] = PoisonEnd;
        }
        if (redZone)
            new Span<byte>(obj + poisonSize, layout.InUse - poisonSize).Fill(val);
    }

    /// <summary><c>get_orig_size</c>: the size the kmalloc caller asked for, or the object size when it is not kept.</summary>
    public static int GetOrigSize(in SlabLayout layout, byte* obj)
    {
        if (!layout.TracksOrigSize)
            return layout.ObjectSize;
        uint size = *(uint*)(obj + layout.OrigSizeOffset);
        return size == 0 || size > (uint)layout.ObjectSize ? layout.ObjectSize : (int)size;
    }

    /// <summary><c>set_orig_size</c>; 0 means the whole object.</summary>
    public static void SetOrigSize(in SlabLayout layout, byte* obj, int size)
    {
        if (layout.TracksOrigSize)
            *(uint*)(obj + layout.OrigSizeOffset) = (uint)(size <= 0 || size > layout.ObjectSize ? layout.ObjectSize : size);
    }

    /// <summary>
    /// <c>check_object</c>: the object's red zones (<paramref name="val"/> is <see cref="RedActive"/> for an allocated
    /// object, <see cref="RedInactive"/> for a free one), its poison and padding under P, and its free pointer where it
    /// can be checked. Each damaged region is reported with the trailer (the dump shows the damage) and then restored
    /// (<c>restore_bytes</c>); <paramref name="lastFix"/>, when given, is added to the last report as what was done next.
    /// Returns false when anything was damaged; <paramref name="errors"/> counts the reports.
    /// </summary>
    public static bool CheckObject(SlabCache cache, KmemCacheNode node, Slab* slab, byte* obj, byte val, ref int errors, string? lastFix = null)
    {
        SlabLayout l = cache.Layout;
        List<(SlabReport Report, nint From, int Length, byte Value)>? damage = null; // made only when something is damaged
        if ((l.DebugFlags & SlabFlags.RedZone) != 0)
        {
            CheckBytes(cache, slab, obj, "Left Redzone", SlabErrorKind.RedzoneOverwritten, obj - l.RedLeftPad, val, l.RedLeftPad, ref damage);
            CheckBytes(cache, slab, obj, "Right Redzone", SlabErrorKind.RedzoneOverwritten, obj + l.ObjectSize, val, l.InUse - l.ObjectSize, ref damage);
            if (l.TracksOrigSize && val == RedActive)
            {
                int orig = GetOrigSize(l, obj);
                if (l.ObjectSize > orig)
                    CheckBytes(cache, slab, obj, "kmalloc Redzone", SlabErrorKind.RedzoneOverwritten, obj + orig, val, l.ObjectSize - orig, ref damage);
            }
        }
        else if ((l.DebugFlags & SlabFlags.Poison) != 0 && l.ObjectSize < l.InUse)
            CheckBytes(cache, slab, obj, "Alignment padding", SlabErrorKind.PaddingOverwritten, obj + l.ObjectSize, PoisonInuse, l.InUse - l.ObjectSize, ref damage);
        if ((l.DebugFlags & SlabFlags.Poison) != 0)
        {
            if (val != RedActive && l.PoisonObject)
            {
                CheckBytes(cache, slab, obj, "Poison", SlabErrorKind.PoisonOverwritten, obj, PoisonFree, l.ObjectSize - 1, ref damage);
                CheckBytes(cache, slab, obj, "End Poison", SlabErrorKind.PoisonOverwritten, obj + l.ObjectSize - 1, PoisonEnd, 1, ref damage);
            }
            if (l.PadOffset < l.SizeFromObject) // check_pad_bytes
                CheckBytes(cache, slab, obj, "Object padding", SlabErrorKind.PaddingOverwritten, obj + l.PadOffset, PoisonInuse, l.SizeFromObject - l.PadOffset, ref damage);
        }
        // The free pointer: while allocated only when it lies outside the object, where it reads 0 (SlabGen's live
        // mark) or, for an object a repaired freelist lost, a valid pointer still; while free it must be a valid one
        // (check_valid_pointer).
        FreePointer fp = cache.Fast.Fp;
        ulong* word = fp.Word(obj);
        string? fpFix = null;
        ulong fpValue = 0;
        if (val == RedActive && l.FreePointerOutside && *word != 0 && !FreePointerValid(cache, node, slab, obj, *word))
            fpFix = "The free pointer of this allocated object is set back to 0 (SlabGen's mark of a live object)";
        else if (val != RedActive && !FreePointerValid(cache, node, slab, obj, *word))
        {
            bool neverHandedOut = IndexOf(l, slab, obj) >= slab->Bump;
            fpValue = neverHandedOut ? fp.Key(obj) : fp.Encode(obj, fp.End(obj));
            fpFix = neverHandedOut
                ? "The free mark of this object, never handed out, is restored"
                : "The slab's freelist now ends at this object: the free objects after it are lost to it";
        }
        if (fpFix != null)
        {
            // object_err: the kernel zaps the pointer (set_freepointer) with no slab_fix line, so this report has none.
            var report = new SlabReport(cache, SlabErrorKind.FreepointerCorrupt, "Freepointer corrupt") { Slab = (nuint)slab->Base, Object = (nuint)obj };
            report.Info(fpFix);
            PrintTrailer(report, cache, slab, obj);
            (damage ??= new()).Add((report, (nint)word, -1, 0));
        }
        if (damage == null)
            return true;
        if (lastFix != null)
            damage[^1].Report.Fix(lastFix);
        foreach ((SlabReport report, nint from, int length, byte value) in damage)
        {
            report.Queue();
            errors++;
            if (length >= 0)
                new Span<byte>((byte*)from, length).Fill(value); // restore_bytes, after the trailer showed the damage
            else
                *(ulong*)from = fpValue;
        }
        return false;
    }

    /// <summary>
    /// <c>check_bytes_and_report</c>: the first byte of [<paramref name="start"/>, +<paramref name="bytes"/>) that is not
    /// <paramref name="value"/>, up to the last that is not, reported with the trailer; restored by the caller.
    /// </summary>
    private static void CheckBytes(SlabCache cache, Slab* slab, byte* obj, string what, SlabErrorKind kind, byte* start, byte value, int bytes,
        ref List<(SlabReport, nint, int, byte)>? damage)
    {
        if (bytes <= 0)
            return;
        int first = new ReadOnlySpan<byte>(start, bytes).IndexOfAnyExcept(value); // memchr_inv
        if (first < 0)
            return;
        byte* fault = start + first;
        byte* end = start + bytes;
        while (end > fault && end[-1] == value)
            end--;
        var report = new SlabReport(cache, kind, $"{what} overwritten") { Slab = (nuint)slab->Base, Object = (nuint)obj };
        report.Info($"0x{(nuint)fault:x}-0x{(nuint)(end - 1):x} @offset={fault - slab->Base}. First byte 0x{*fault:x} instead of 0x{value:x}");
        PrintTrailer(report, cache, slab, obj);
        report.Fix($"Restoring {what} 0x{(nuint)fault:x}-0x{(nuint)(end - 1):x}=0x{value:x}");
        (damage ??= new()).Add((report, (nint)fault, (int)(end - fault), value));
    }

    /// <summary>
    /// A free object's free pointer word is one of SlabGen's free states: its own mark (never handed out, or isolated
    /// in a quarantined slab), the end of its slab's freelist, or another freed object of its slab.
    /// </summary>
    private static bool FreePointerValid(SlabCache cache, KmemCacheNode node, Slab* slab, byte* obj, ulong word)
    {
        FreePointer fp = cache.Fast.Fp;
        if (word == fp.Key(obj))
            return true;
        byte* next = (byte*)fp.Decode(obj, word);
        return next == fp.End(obj) || (next != obj && node.IsFreedObject(slab, next));
    }

    /// <summary>The index of <paramref name="obj"/> in its slab.</summary>
    public static int IndexOf(in SlabLayout layout, Slab* slab, byte* obj) => (int)((obj - (slab->Base + layout.RedLeftPad)) / layout.Size);

    /// <summary>
    /// <c>slab_pad_check</c>: under P the slab's tail past its last object must still be <see cref="PoisonInuse"/>;
    /// damage is reported (<c>slab_err</c> with the padding's dump) and restored.
    /// </summary>
    public static bool SlabPadCheck(SlabCache cache, Slab* slab, ref int errors)
    {
        SlabLayout l = cache.Layout;
        if ((l.DebugFlags & SlabFlags.Poison) == 0)
            return true;
        int length = l.SlabBytes;
        int remainder = length % l.Size;
        if (remainder == 0)
            return true;
        byte* pad = slab->Base + length - remainder;
        int first = new ReadOnlySpan<byte>(pad, remainder).IndexOfAnyExcept(PoisonInuse);
        if (first < 0)
            return true;
        byte* fault = pad + first, end = slab->Base + length;
        while (end > fault && end[-1] == PoisonInuse)
            end--;
        var report = new SlabReport(cache, SlabErrorKind.PaddingOverwritten,
            $"Padding overwritten. 0x{(nuint)fault:x}-0x{(nuint)(end - 1):x} @offset={fault - slab->Base}") { Slab = (nuint)slab->Base };
        report.Info(SlabInfoLine(slab));
        report.Section("Padding  ", pad, remainder);
        report.Fix($"Restoring slab padding 0x{(nuint)fault:x}-0x{(nuint)(end - 1):x}=0x{PoisonInuse:x}");
        report.Queue();
        new Span<byte>(fault, (int)(end - fault)).Fill(PoisonInuse);
        errors++;
        return false;
    }

    /// <summary><c>print_slab_info</c>.</summary>
    public static string SlabInfoLine(Slab* slab)
        => $"Slab 0x{(nuint)slab->Base:x} objects={slab->Objects} used={slab->InUse} fp=0x{(nuint)slab->Freelist:x}";

    /// <summary>
    /// <c>print_trailer</c>: the object's tracks (U), its slab, where it is, and the dumps of its left red zone (or the
    /// 16 bytes before it), the object, its right red zone and its padding.
    /// </summary>
    public static void PrintTrailer(SlabReport report, SlabCache cache, Slab* slab, byte* obj)
    {
        SlabLayout l = cache.Layout;
        PrintTracking(report, l, obj);
        report.Info(SlabInfoLine(slab));
        report.Info($"Object 0x{(nuint)obj:x} @offset={obj - slab->Base} fp=0x{FreePointerShown(cache, obj):x}");
        report.Raw("");
        if ((l.DebugFlags & SlabFlags.RedZone) != 0)
            report.Section("Redzone  ", obj - l.RedLeftPad, l.RedLeftPad);
        else if (obj > slab->Base + 16)
            report.Section("Bytes b4 ", obj - 16, 16);
        report.Section("Object   ", obj, Math.Min(l.ObjectSize, MaxDump));
        if ((l.DebugFlags & SlabFlags.RedZone) != 0)
            report.Section("Redzone  ", obj + l.ObjectSize, l.InUse - l.ObjectSize);
        if (l.Debug && l.PadOffset != l.SizeFromObject)
            report.Section("Padding  ", obj + l.PadOffset, l.SizeFromObject - l.PadOffset);
    }

    /// <summary><c>print_tracking</c>: the Allocated and Freed tracks, when the cache keeps them.</summary>
    public static void PrintTracking(SlabReport report, in SlabLayout layout, byte* obj)
    {
        if ((layout.DebugFlags & SlabFlags.StoreUser) == 0)
            return;
        long now = Environment.TickCount64;
        Track.Of(layout, obj, TrackItem.Alloc)->Print(report, "Allocated", now);
        Track.Of(layout, obj, TrackItem.Free)->Print(report, "Freed", now);
    }

    /// <summary>What an object's free pointer points at, as a report shows it: 0 for a live object or the end of a freelist.</summary>
    private static nuint FreePointerShown(SlabCache cache, byte* obj)
    {
        FreePointer fp = cache.Fast.Fp;
        ulong word = *fp.Word(obj);
        if (word == 0)
            return 0;
        void* next = fp.Decode(obj, word);
        return next == fp.End(obj) ? 0 : (nuint)next;
    }

    /// <summary>
    /// <c>trace</c>: <c>TRACE &lt;cache&gt; alloc|free 0x&lt;object&gt; inuse=&lt;n&gt; fp=0x&lt;freelist&gt;</c>, a free's
    /// object dump, and the caller's stack.
    /// </summary>
    public static void Trace(SlabCache cache, Slab* slab, byte* obj, bool alloc, uint handle)
    {
        var report = new SlabReport(cache, default, "");
        report.Raw($"TRACE {cache.Name} {(alloc ? "alloc" : "free")} 0x{(nuint)obj:x} inuse={slab->InUse} fp=0x{(nuint)slab->Freelist:x}");
        if (!alloc)
            report.Section("Object ", obj, Math.Min(cache.Layout.ObjectSize, MaxDump));
        foreach (string frame in StackDepot.Fetch(handle))
            report.Raw(" " + frame);
        SlabErrors.Trace(report.Body);
    }
}
