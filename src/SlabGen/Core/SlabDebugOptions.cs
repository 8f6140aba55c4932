using System;
using System.Collections.Generic;
using System.Text;

namespace SlabGen.Core;

/// <summary>
/// The process-wide debug switches in the kernel's <c>slab_debug=</c> syntax (Documentation/mm/slub.rst), from
/// <c>SLABGEN_DEBUG</c> or <c>SlabGen.Debug</c>, and which of them a cache of a given name gets
/// (<c>kmem_cache_flags</c>). Blocks are separated by <c>;</c>; a block is a list of option letters, alone (for every
/// cache) or followed by <c>,name,name...</c> (for those caches only; a name may end in <c>*</c> to match a prefix).
/// An empty value, or a block with no letters before its names, means F Z P U. <c>-</c> turns everything off.
/// </summary>
internal sealed class SlabDebugOptions
{
    /// <summary><c>DEBUG_DEFAULT_FLAGS</c>: what an empty option list means.</summary>
    public const SlabFlags DefaultFlags = SlabFlags.ConsistencyChecks | SlabFlags.RedZone | SlabFlags.Poison | SlabFlags.StoreUser;

    /// <summary><c>DEBUG_METADATA_FLAGS</c>: the flags that grow an object's slot, dropped by O when they would raise its order.</summary>
    public const SlabFlags MetadataFlags = SlabFlags.RedZone | SlabFlags.Poison | SlabFlags.StoreUser;

    /// <summary>What <c>SLABGEN_DEBUG</c> accepts, for messages.</summary>
    public const string Expected =
        "slab_debug options: letters F, Z, P, U, T, O or - (none: F, Z, P and U), optionally followed by ,cache names (a name may end in *), blocks separated by ;";

    /// <summary>No debugging anywhere (the variable unset).</summary>
    public static readonly SlabDebugOptions None = new(0, Array.Empty<Block>(), false);

    private readonly Block[] _blocks;

    private SlabDebugOptions(SlabFlags global, Block[] blocks, bool disableHigherOrderDebug)
    {
        Global = global;
        _blocks = blocks;
        DisableHigherOrderDebug = disableHigherOrderDebug;
    }

    /// <summary>A block of options that applies to the caches its patterns name.</summary>
    public readonly record struct Block(SlabFlags Flags, string[] Patterns);

    /// <summary>The flags every cache gets that no block names (<c>slub_debug</c>).</summary>
    public SlabFlags Global { get; }

    /// <summary>The blocks with cache lists, in the order given (the first that names a cache wins).</summary>
    public IReadOnlyList<Block> Blocks => _blocks;

    /// <summary>O was given: caches whose debug metadata would raise their slab order get none (<c>disable_higher_order_debug</c>).</summary>
    public bool DisableHigherOrderDebug { get; }

    /// <summary>True when no cache gets any debug flag.</summary>
    public bool IsNone => Global == 0 && _blocks.Length == 0;

    /// <summary>
    /// The flags a cache named <paramref name="name"/> (or <paramref name="alsoName"/>, the name it asked for before a
    /// scope was added) is created with: <paramref name="flags"/> plus the options of the first block that names it,
    /// else plus the global options (<c>kmem_cache_flags</c>). Switches only ever add flags: <c>-</c> in a block leaves
    /// the flags a cache was created with as they are.
    /// </summary>
    public SlabFlags CacheFlags(SlabFlags flags, string name, string? alsoName = null)
    {
        foreach (Block block in _blocks)
            foreach (string pattern in block.Patterns)
                if (Matches(pattern, name) || (alsoName != null && Matches(pattern, alsoName)))
                    return flags | block.Flags;
        return flags | Global;
    }

    /// <summary>A pattern names a cache exactly, or by the prefix before its trailing <c>*</c>.</summary>
    private static bool Matches(string pattern, string name)
        => pattern.EndsWith('*')
            ? name.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
            : string.Equals(pattern, name, StringComparison.Ordinal);

    /// <summary>
    /// Parses a <c>slab_debug=</c> value (<c>setup_slub_debug</c> with <c>parse_slub_debug_flags</c>). Stricter than the
    /// kernel, which skips an unknown letter and goes on: any problem rejects the whole value, so that a mistyped
    /// switch is reported rather than half applied. <c>A</c> (failslab) is not supported.
    /// </summary>
    public static bool TryParse(string text, out SlabDebugOptions options, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        options = None;
        problem = null;
        text = text.Trim();
        if (text.Length == 0)
        {
            options = new SlabDebugOptions(DefaultFlags, Array.Empty<Block>(), false); // bare slab_debug: full debugging
            return true;
        }
        SlabFlags global = 0;
        bool globalChanged = false, higherOrder = false;
        var blocks = new List<Block>();
        foreach (string block in text.Split(';'))
        {
            if (block.Length == 0)
                continue; // empty blocks are skipped, as the kernel skips ";;"
            int comma = block.IndexOf(',');
            string letters = comma < 0 ? block : block.Substring(0, comma);
            SlabFlags flags = 0;
            bool order = false;
            foreach (char c in letters)
            {
                switch (char.ToLowerInvariant(c))
                {
                    case '-': flags = 0; break;
                    case 'f': flags |= SlabFlags.ConsistencyChecks; break;
                    case 'z': flags |= SlabFlags.RedZone; break;
                    case 'p': flags |= SlabFlags.Poison; break;
                    case 'u': flags |= SlabFlags.StoreUser; break;
                    case 't': flags |= SlabFlags.Trace; break;
                    case 'o': order = true; break;
                    case 'a':
                        problem = "option 'A' (failslab) is not supported";
                        return false;
                    default:
                        problem = char.IsWhiteSpace(c) ? $"a blank in the options \"{letters}\"" : $"unknown option '{c}'";
                        return false;
                }
            }
            higherOrder |= order;
            if (comma < 0)
            {
                global = flags; // the last "all caches" block wins
                globalChanged = true;
                continue;
            }
            if (letters.Length == 0)
                flags = DefaultFlags; // ",name": full debugging for the named caches
            string[] patterns = block.Substring(comma + 1).Split(',');
            foreach (string pattern in patterns)
            {
                string? bad = pattern.Length == 0 ? "an empty cache name"
                    : pattern.IndexOf('*') is int star && star >= 0 && star != pattern.Length - 1 ? $"'*' before the end of \"{pattern}\" (it may only end a name)"
                    : Policy.CacheNameRules.Problem(pattern.TrimEnd('*')) is string p && pattern != "*" ? $"the cache name \"{pattern}\" {p}"
                    : null;
                if (bad != null)
                {
                    problem = bad;
                    return false;
                }
            }
            blocks.Add(new Block(flags, patterns));
        }
        // A single list of options with cache names changes only those caches: the global options stay off unless a
        // block without names set them (the kernel's backwards-compatible reading).
        options = new SlabDebugOptions(globalChanged ? global : 0, blocks.ToArray(), higherOrder);
        return true;
    }

    /// <summary>The options as <c>slab_debug=</c> would spell them, for messages and tests.</summary>
    public override string ToString()
    {
        var parts = new List<string>(_blocks.Length + 1);
        if (Global != 0 || DisableHigherOrderDebug || _blocks.Length == 0)
            parts.Add(Letters(Global) + (DisableHigherOrderDebug ? "O" : ""));
        foreach (Block block in _blocks)
            parts.Add(Letters(block.Flags) + "," + string.Join(',', block.Patterns));
        return string.Join(';', parts);
    }

    /// <summary>The letters of <paramref name="flags"/> in F Z P U T order, or <c>-</c> for none.</summary>
    public static string Letters(SlabFlags flags)
    {
        var text = new StringBuilder(5);
        if ((flags & SlabFlags.ConsistencyChecks) != 0) text.Append('F');
        if ((flags & SlabFlags.RedZone) != 0) text.Append('Z');
        if ((flags & SlabFlags.Poison) != 0) text.Append('P');
        if ((flags & SlabFlags.StoreUser) != 0) text.Append('U');
        if ((flags & SlabFlags.Trace) != 0) text.Append('T');
        return text.Length == 0 ? "-" : text.ToString();
    }
}
