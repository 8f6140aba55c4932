using System.Text;
using SlabGen.Policy;

namespace SlabGen.Generator.Parse;

/// <summary>
/// Cache names: the snake_case default, the runtime's rules (<see cref="CacheNameRules"/>) and the generator's own
/// one on top: a generated cache never takes a name of the kmalloc size-class caches.
/// </summary>
internal static class CacheNames
{
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

    /// <summary>
    /// What is wrong with <paramref name="name"/> (to follow "cache name 'x' "), in the runtime's words where the runtime
    /// would refuse it; null when it is fine. A <paramref name="defaulted"/> name came from the struct's name.
    /// </summary>
    public static string? Problem(string name, bool defaulted)
    {
        string? problem = CacheNameRules.Problem(name);
        if (problem is null && name.StartsWith(CacheNameRules.KmallocPrefix, System.StringComparison.Ordinal))
            problem = "starts with '" + CacheNameRules.KmallocPrefix + "', which names the kmalloc size-class caches";
        if (problem is not null && defaulted)
            problem += "; it is the struct's name in snake_case: give the cache a Name";
        return problem;
    }
}
