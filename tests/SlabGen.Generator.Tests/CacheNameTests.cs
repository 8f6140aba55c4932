using SlabGen.Generator.Parse;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>The default cache name, the one naming rule that is the generator's own.</summary>
public class CacheNameTests
{
    [Theory]
    [InlineData("Packet", "packet")]
    [InlineData("PacketHeader", "packet_header")]
    [InlineData("HTTPRequest", "http_request")]
    [InlineData("IOBuffer2", "io_buffer2")]
    [InlineData("Vec3D", "vec3_d")]
    [InlineData("already_snake", "already_snake")]
    [InlineData("My_Type", "my_type")]
    public void Default_names_are_snake_case(string typeName, string expected)
        => Assert.Equal(expected, CacheNames.ToSnakeCase(typeName));
}
