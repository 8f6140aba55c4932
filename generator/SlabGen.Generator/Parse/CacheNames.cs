using System.Text;

namespace SlabGen.Generator.Parse;

/// <summary>Cache names: the snake_case default and the rules the runtime enforces.</summary>
internal static class CacheNames
{
    public const int MaxLength = 64;

    /// <summary><c>PacketHeader</c> → <c>packet_header</c>, <c>HTTPRequest</c> → <c>http_request</c>, <c>Vec3D</c> → <c>vec3_d</c>.</summary>
    public static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool afterLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                bool endsAcronym = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if ((afterLowerOrDigit || endsAcronym) && builder.Length > 0 && builder[builder.Length - 1] != '_')
                    builder.Append('_');
                builder.Append(char.ToLowerInvariant(c));
            }
            else
                builder.Append(c);
        }
        return builder.ToString();
    }

    /// <summary>Why the runtime would refuse <paramref name="name"/>, or null when it is fine.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0 || name.Length > MaxLength)
            return "a cache name is 1 to " + MaxLength + " characters long";
        foreach (char c in name)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
                return "it contains whitespace or a control character, and slabinfo rows are split on whitespace";
        }
        if (name.StartsWith("kmalloc-", System.StringComparison.Ordinal))
            return "names starting with 'kmalloc-' belong to the kmalloc size-class caches";
        return null;
    }
}
