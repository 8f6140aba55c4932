using System;
using System.IO;
using System.Linq;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>
/// The generated text for the README's Packet, compared with Expected/*.g.cs (the generator's version scrubbed).
/// Set SLABGEN_BLESS=1 to rewrite the expected files after an intended change, then review the diff.
/// </summary>
public class SnapshotTests
{
    [Theory]
    [InlineData("Demo.Net.Packet.SlabCache.g.cs", """
        using SlabGen;
        namespace Demo.Net;
        [SlabCache(Name = "packet_cache", Ctor = nameof(Init), Flags = SlabFlags.HwCacheAlign)]
        public unsafe partial struct Packet
        {
            public int Length;
            public fixed byte Data[1500];
            static void Init(ref Packet p) => p.Length = 0;
        }
        """)]
    [InlineData("Demo.Outer+Small.SlabCache.g.cs", """
        using SlabGen;
        namespace Demo;
        public static partial class Outer
        {
            [SlabCache(Flags = SlabFlags.Merge)]
            public partial struct Small { public int A; public byte B; }
        }
        """)]
    public void GeneratedTextMatchesExpected(string hintName, string source)
    {
        GeneratorRun run = TestCompilation.Run(source);
        Assert.Empty(run.Diagnostics);
        string actual = Scrub(run.Sources[hintName]);
        string path = Path.Combine(TestCompilation.RepositoryRoot, "tests", "SlabGen.Generator.Tests", "Expected", hintName.Replace('+', '_'));
        if (Environment.GetEnvironmentVariable("SLABGEN_BLESS") == "1")
            File.WriteAllText(path, actual);
        Assert.True(File.Exists(path), path + " is missing; run the tests once with SLABGEN_BLESS=1");
        Assert.Equal(File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal), actual);
    }

    private static string Scrub(string text)
        => text.Replace("GeneratedCode(\"SlabGen\", \"" + Emit.Emitter.Version + "\")", "GeneratedCode(\"SlabGen\", \"<VERSION>\")", StringComparison.Ordinal);
}
