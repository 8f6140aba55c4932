using System;
using System.Collections.Generic;
using System.IO;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>
/// The generated text for each shape of struct the docs show, compared with Expected/*.g.cs (the generator's version
/// scrubbed), compiled in an assembly named <see cref="AssemblyName"/>, the caches' name scope. Set SLABGEN_BLESS=1 to
/// rewrite the expected files after an intended change, then review the diff.
/// </summary>
public class SnapshotTests
{
    private const string AssemblyName = "Demo.Library";

    public static IEnumerable<object[]> Shapes() => new[]
    {
        // The README's Packet: a name, a ctor, cache-line alignment, a fixed buffer, a file-scoped namespace.
        new object[] { "Demo.Net.Packet.SlabCache.g.cs", """
            using SlabGen;
            namespace Demo.Net;
            [SlabCache(Name = "packet_cache", Ctor = nameof(Init), Flags = SlabFlags.HwCacheAlign)]
            public unsafe partial struct Packet
            {
                public int Length;
                public fixed byte Data[1500];
                static void Init(ref Packet p) => p.Length = 0;
            }
            """ },
        // Plain: the default (snake_case) name, the global namespace, nothing set.
        new object[] { "PacketHeader.SlabCache.g.cs", """
            using SlabGen;
            [SlabCache]
            public partial struct PacketHeader { public int Length; public long Id; }
            """ },
        // Merged into its size class (docs/merging.md's Tick), nested in a partial class.
        new object[] { "Demo.Outer+Small.SlabCache.g.cs", """
            using SlabGen;
            namespace Demo;
            public static partial class Outer
            {
                [SlabCache(Flags = SlabFlags.Merge)]
                public partial struct Small { public int A; public byte B; }
            }
            """ },
        // Nested in a partial class, struct and record, private, with a pointer field and an Align of its own.
        new object[] { "Demo.Outer+Middle+Holder+Node.SlabCache.g.cs", """
            using SlabGen;
            namespace Demo;
            public static partial class Outer
            {
                internal partial struct Middle
                {
                    public partial record Holder
                    {
                        [SlabCache(Align = 32)]
                        private unsafe partial struct Node { public Node* Next; public double Value; }
                    }
                }
            }
            """ },
        // A positional record struct: its backing fields are its fields.
        new object[] { "Demo.Vec3.SlabCache.g.cs", """
            using SlabGen;
            namespace Demo;
            [SlabCache]
            public partial record struct Vec3(float X, float Y, float Z);
            """ },
        // A readonly record struct nested in an interface.
        new object[] { "Demo.IHolder+Entry.SlabCache.g.cs", """
            using SlabGen;
            namespace Demo;
            public partial interface IHolder
            {
                [SlabCache]
                public readonly partial record struct Entry(int Key, long Value);
            }
            """ },
        // An explicit layout: the size is the end of the furthest field.
        new object[] { "Demo.Union.SlabCache.g.cs", """
            using SlabGen;
            using System.Runtime.InteropServices;
            namespace Demo;
            [SlabCache(Name = "union")]
            [StructLayout(LayoutKind.Explicit)]
            public partial struct Union { [FieldOffset(0)] public int A; [FieldOffset(4)] public long B; [FieldOffset(0)] public byte C; }
            """ },
        // Explicit tunables in block namespaces, internal.
        new object[] { "Outer.Inner.Message.SlabCache.g.cs", """
            using SlabGen;
            namespace Outer
            {
                namespace Inner
                {
                    [SlabCache(Limit = 32, BatchCount = 8, SharedFactor = 2, Flags = SlabFlags.NoMerge)]
                    internal partial struct Message { public long Id; public int Kind; }
                }
            }
            """ },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_generated_text_matches_the_expected_file(string hintName, string source)
    {
        GeneratorRun run = TestCompilation.Run(TestCompilation.Create(new[] { "#pragma warning disable CS0649 // fields never assigned\n" + source }, assemblyName: AssemblyName));
        Assert.Empty(run.Diagnostics);
        Assert.True(run.CompilationDiagnostics.Count == 0, string.Join("\n", run.CompilationDiagnostics));
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
