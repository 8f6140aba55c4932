using System;
using Xunit;
using ConnectionA = SlabGen.EndToEnd.LibA.Connection;
using ConnectionB = SlabGen.EndToEnd.LibB.Connection;

namespace SlabGen.EndToEnd.Tests;

/// <summary>
/// Two real assemblies, SlabGen.EndToEnd.LibA and LibB, each declare <c>[SlabCache] partial struct Connection</c>,
/// so both caches default to the name <c>connection</c>. The first to initialize keeps it; the other is named
/// <c>connection@</c> and its assembly's name, and both work. No other test touches these two types, so this test
/// decides the order: LibA first.
/// </summary>
public class NameScopeTests
{
    [Fact]
    public unsafe void Two_assemblies_with_one_cache_name_both_get_a_cache_and_the_second_is_scoped_by_its_assembly()
    {
        string libB = typeof(ConnectionB).Assembly.GetName().Name!;
        Assert.Equal(("connection", "connection"), (ConnectionA.SlabSpec.Name, ConnectionB.SlabSpec.Name));
        Assert.Equal((typeof(ConnectionA).Assembly.GetName().Name, libB), (ConnectionA.SlabSpec.NameScope, ConnectionB.SlabSpec.NameScope));

        // Neither type initializer throws (before name scopes, the second one did, and the type stayed unusable).
        Assert.Null(Record.Exception(() => ConnectionA.Cache));
        Assert.Null(Record.Exception(() => ConnectionB.Cache));

        Assert.Equal("connection", ConnectionA.Cache.Name);
        Assert.Equal("connection@" + libB, ConnectionB.Cache.Name);
        Assert.Equal(ConnectionB.Cache.Name, ConnectionB.Cache.Cache.Name);
        Assert.NotSame(ConnectionA.Cache.Cache, ConnectionB.Cache.Cache);

        long freesA = ConnectionA.Cache.Cache.GetStatistics().Frees, freesB = ConnectionB.Cache.Cache.GetStatistics().Frees;
        ConnectionA* a = ConnectionA.Alloc();
        ConnectionB* b = ConnectionB.Alloc();
        Assert.True(a != null && b != null);
        a->Id = 7;
        b->BytesIn = 9;
        Assert.Equal((7L, 9L), (a->Id, b->BytesIn));
        ConnectionA.Free(a);
        ConnectionB.Free(b);
        Assert.Equal((freesA + 1, freesB + 1), (ConnectionA.Cache.Cache.GetStatistics().Frees, ConnectionB.Cache.Cache.GetStatistics().Frees));

        string table = SlabInfo.Read();
        Assert.Contains("\nconnection ", table, StringComparison.Ordinal);
        Assert.Contains("\nconnection@" + libB + " ", table, StringComparison.Ordinal);
    }
}
