using System.Globalization;
using System.Text;

namespace SlabGen.Policy;

/// <summary>
/// What makes a cache name acceptable: 1 to 64 characters that print unambiguously in a slabinfo row, which is split
/// on whitespace. Refused: whitespace, control and format characters (zero-width spaces and joiners, bidi controls,
/// the byte order mark), private-use and unassigned code points, and unpaired surrogates.
/// </summary>
internal static class CacheNameRules
{
    public const int MaxLength = 64;

    /// <summary>The prefix of the kmalloc size-class caches' names, which no other cache may take.</summary>
    public const string KmallocPrefix = "kmalloc-";

    /// <summary>What is wrong with <paramref name="name"/> (to follow "slab cache name 'x' "), or null when it is fine.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0 || name.Length > MaxLength)
            return $"must be 1 to {MaxLength} characters long";
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                UnicodeCategory pair = CharUnicodeInfo.GetUnicodeCategory(name, i);
                if (pair is UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Format)
                    return $"contains {Describe(char.ConvertToUtf32(c, name[i + 1]), pair)} at index {i}; names must print unambiguously in slabinfo";
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
                return $"contains an unpaired surrogate (U+{(int)c:X4}) at index {i}; names must be well-formed text";
            if (char.IsWhiteSpace(c))
                return $"contains whitespace (U+{(int)c:X4}) at index {i}; slabinfo rows are split on whitespace";
            UnicodeCategory cat = CharUnicodeInfo.GetUnicodeCategory(c);
            if (cat is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
                return $"contains {Describe(c, cat)} at index {i}; names must print unambiguously in slabinfo";
        }
        return null;
    }

    private static string Describe(int codePoint, UnicodeCategory cat) => cat switch
    {
        UnicodeCategory.Control => $"a control character (U+{codePoint:X4})",
        UnicodeCategory.Format => $"an invisible format character (U+{codePoint:X4}: zero-width, bidi or similar)",
        UnicodeCategory.PrivateUse => $"a private-use character (U+{codePoint:X4})",
        _ => $"an unassigned code point (U+{codePoint:X4})",
    };

    /// <summary>The name in quotes with anything that would not print escaped as \uXXXX, for messages about a bad name.</summary>
    public static string Quote(string name)
    {
        var sb = new StringBuilder(name.Length + 2).Append('\'');
        foreach (char c in name)
        {
            UnicodeCategory cat = CharUnicodeInfo.GetUnicodeCategory(c);
            if (char.IsWhiteSpace(c) && c != ' ' || char.IsSurrogate(c) || cat is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned)
                sb.Append($"\\u{(int)c:X4}");
            else
                sb.Append(c);
        }
        return sb.Append('\'').ToString();
    }
}
