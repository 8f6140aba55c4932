using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>The generated source for representative structs compiles, with no diagnostic of any kind.</summary>
public class GeneratedSourceTests
{
    public static IEnumerable<object[]> Shapes() => new[]
    {
        new object[] { "global namespace", """
            using SlabGen;
            [SlabCache]
            public partial struct Point { public int X, Y; }
            """ },
        new object[] { "file-scoped namespace", """
            using SlabGen;
            namespace Demo.Net;
            [SlabCache(Name = "packet_cache", Ctor = nameof(Init), Flags = SlabFlags.HwCacheAlign)]
            public unsafe partial struct Packet
            {
                public int Length;
                public fixed byte Data[1500];
                static void Init(ref Packet p) => p.Length = -1;
            }
            """ },
        new object[] { "block and nested namespaces", """
            using SlabGen;
            #pragma warning disable CS0649 // the test's fields are never assigned
            namespace Outer
            {
                namespace Inner
                {
                    [SlabCache(Limit = 32, BatchCount = 8, SharedFactor = 2)]
                    internal partial struct Message { public long Id; public int Kind; }
                }
            }
            """ },
        new object[] { "nested in partial class, struct and record", """
            using SlabGen;
            #pragma warning disable CS0649 // the test's fields are never assigned
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
        new object[] { "record struct", """
            using SlabGen;
            namespace Demo;
            [SlabCache]
            public partial record struct Vec3(float X, float Y, float Z);
            """ },
        new object[] { "readonly struct", """
            using SlabGen;
            namespace Demo;
            [SlabCache(Flags = SlabFlags.NoMerge)]
            public readonly partial struct Money { public readonly long Cents; public readonly short Currency; }
            """ },
        new object[] { "readonly record struct in an interface", """
            using SlabGen;
            namespace Demo;
            public partial interface IHolder
            {
                [SlabCache]
                public readonly partial record struct Entry(int Key, long Value);
            }
            """ },
        new object[] { "merged into its size class", """
            using SlabGen;
            #pragma warning disable CS0649 // the test's fields are never assigned
            namespace Demo;
            [SlabCache(Flags = SlabFlags.Merge)]
            internal partial struct Small { public int A; public byte B; }
            """ },
        new object[] { "keyword-named type", """
            using SlabGen;
            #pragma warning disable CS0649 // the test's fields are never assigned
            namespace Demo;
            [SlabCache(Name = "event")]
            internal partial struct @event { public int Id; }
            """ },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void The_generated_source_compiles_without_diagnostics(string shape, string source)
    {
        GeneratorRun run = TestCompilation.Run(source);

        Assert.True(run.Diagnostics.IsEmpty, shape + ": " + string.Join("\n", run.Diagnostics));
        Assert.Single(run.Sources);
        Assert.True(run.CompilationDiagnostics.Count == 0,
            shape + ":\n" + string.Join("\n", run.CompilationDiagnostics) + "\n" + run.Sources.Values.Single());
    }

    /// <summary>
    /// [SlabCache] on two partial declarations of one struct is the compiler's CS0579; the generator sees the struct
    /// once per declaration and generates from the first only, so it neither adds the same hint name twice (an
    /// exception, CS8785) nor reports the struct's name as taken by itself (SLAB011). In one file or in two.
    /// </summary>
    [Theory]
    [InlineData("Name = \"first\"", "Name = \"second\"", false)]
    [InlineData("Name = \"first\"", "Name = \"first\"", false)]
    [InlineData("Name = \"first\"", "Name = \"second\"", true)]
    public void An_attribute_repeated_on_another_partial_declaration_generates_once_from_the_first(string first, string second, bool twoFiles)
    {
        string one = $$"""
            using SlabGen;
            namespace Demo;
            [SlabCache({{first}})]
            public partial struct Packet { public int A; }
            """;
        string other = $$"""
            using SlabGen;
            namespace Demo;
            [SlabCache({{second}})]
            public partial struct Packet { public int Twice() => A * 2; }
            """;
        GeneratorRun run = TestCompilation.Run(TestCompilation.Create(twoFiles ? new[] { one, other } : new[] { one + "\n" + other.Replace("using SlabGen;\nnamespace Demo;\n", "") }));

        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
        Assert.Contains("public const string Name = \"first\";", Assert.Single(run.Sources).Value);
        Assert.Equal(new[] { "CS0579" }, run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Id).Distinct());
    }

    [Fact]
    public void A_compilation_without_an_assembly_name_creates_its_caches_without_a_name_scope()
    {
        CSharpCompilation compilation = TestCompilation.Create(new[] { """
            using SlabGen;
            [SlabCache] public partial struct Plain { public int A; }
            [SlabCache(Flags = SlabFlags.Merge)] public partial struct Shared { public int A; }
            """ }).WithAssemblyName(null);
        GeneratorRun run = TestCompilation.Run(compilation);

        Assert.True(run.Diagnostics.IsEmpty, string.Join("\n", run.Diagnostics));
        Assert.True(run.CompilationDiagnostics.Count == 0, string.Join("\n", run.CompilationDiagnostics));
        Assert.Equal(2, run.Sources.Count);
        Assert.All(run.Sources.Values, text => Assert.DoesNotContain("NameScope", text));
        Assert.Contains(".Align, null);", run.Sources["Shared.SlabCache.g.cs"]);
    }
}
