using System;
using System.Collections.Generic;
using SlabGen.Core;

namespace SlabGen;

// Merged aliases (find_mergeable / __kmem_cache_alias): other names served by this cache.
public sealed unsafe partial class SlabCache
{
    /// <summary>Names merged into this cache (what <c>slabinfo -a</c> lists).</summary>
    public IReadOnlyList<string> Aliases
    {
        get
        {
            using (CacheChain.Enter())
                return _aliases.ToArray();
        }
    }

    /// <summary>Registers an alias after checking that an object of <paramref name="size"/> bytes and <paramref name="align"/> fits (<c>find_mergeable</c>'s tests).</summary>
    internal string AddAlias(string name, int size, int align, string? scope = null)
    {
        ValidateName(name);
        using (CacheChain.Enter())
        {
            name = ScopedName(name, scope);
            ThrowIfDisposed();
            string? problem =
                _ctor != null ? "it has a constructor"
                : size > _layout.ObjectSize ? $"objects of {size} bytes do not fit its {_layout.ObjectSize}-byte objects"
                : align > 0 && _layout.Size % align != 0 ? $"its objects are not {align}-byte aligned"
                : (Flags & SlabFlags.NoMerge) != 0 ? "it was created with SlabFlags.NoMerge"
                : IsDebug ? "it has debug flags (a debug cache never merges)"
                : null;
            if (problem != null)
                throw new ArgumentException($"slab cache '{name}': cannot merge into '{Name}': {problem}.", nameof(name));
            if (CacheChain.FindName(name) != null)
                throw new ArgumentException($"slab cache '{name}': a cache or alias with this name already exists.", nameof(name));
            _aliases.Add(name);
            return name;
        }
    }

    /// <summary>True when <paramref name="name"/> is merged into this cache. Caller holds the chain mutex.</summary>
    internal bool HasAlias(string name) => _aliases.Contains(name);

    internal void RemoveAlias(string name)
    {
        using (CacheChain.Enter())
            _aliases.Remove(name);
    }
}
