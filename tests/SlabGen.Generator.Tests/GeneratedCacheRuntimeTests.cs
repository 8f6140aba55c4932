using System;
using Microsoft.CodeAnalysis;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>
/// Generated caches compiled and run in-process: the cache is made as SlabSpec says, the ctor runs, Merge makes an
/// alias, and a layout the generator gets wrong fails loudly at cache creation.
/// </summary>
public class GeneratedCacheRuntimeTests
{
    /// <summary>Generates, compiles and loads <paramref name="source"/>, and returns what <c>Rt.Probe.Run()</c> returns.</summary>
    private static string RunProbe(string source)
    {
        GeneratorRun run = TestCompilation.Run(source);
        Assert.Empty(run.Diagnostics);
        return InProcessAssembly.Invoke(InProcessAssembly.Emit(run.Output), "Rt.Probe", "Run");
    }

    private static string Unique(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N").Substring(0, 12);

    [Fact]
    public void The_cache_is_created_as_SlabSpec_says_and_runs_the_ctor()
    {
        string name = Unique("rt_packet");
        string source = $$"""
            using SlabGen;
            namespace Rt;
            [SlabCache(Name = "{{name}}", Ctor = nameof(Init), Flags = SlabFlags.HwCacheAlign)]
            public unsafe partial struct Packet
            {
                public int Length;
                public fixed byte Data[1500];
                static void Init(ref Packet p) => p.Length = -1;
            }
            public static unsafe class Probe
            {
                public static string Run()
                {
                    Packet* a = Packet.Alloc();
                    Packet* b = Packet.Alloc();
                    bool constructed = a->Length == -1 && b->Length == -1;
                    bool aligned = ((nint)a % 64) == 0 && ((nint)b % 64) == 0;
                    int viaRent;
                    using (SlabRef<Packet> r = Packet.Rent()) { r.Value.Length = 7; viaRent = r.Value.Length; }
                    Packet.Free(a);
                    Packet.Free(b);
                    Packet.Free(null);
                    SlabCache c = Packet.Cache.Cache;
                    bool listed = SlabInfo.Read().Contains("\n{{name}} ");
                    string result = string.Join(" ", constructed, aligned, viaRent, c.Name, c.ObjectSize, c.Align,
                        c.Limit, c.BatchCount, c.SharedFactor, listed, Packet.Cache.IsAlias, object.ReferenceEquals(Packet.Cache, Packet.Cache));
                    Packet.Cache.Dispose();
                    return result;
                }
            }
            """;
        string result = RunProbe(source);

        // 1504 bytes round to 1536 (64-aligned) and into the 2048 class: enable_cpucache gives 24 / 12 / 8.
        Assert.Equal($"True True 7 {name} 2048 64 24 12 8 True False True", result);
    }

    [Fact]
    public void Attribute_tunables_override_the_table()
    {
        string name = Unique("rt_tuned");
        string source = $$"""
            using SlabGen;
            namespace Rt;
            [SlabCache(Name = "{{name}}", Limit = 40, SharedFactor = 3)]
            public partial struct Tuned { public long A; }
            public static class Probe
            {
                public static string Run()
                {
                    SlabCache c = Tuned.Cache.Cache;
                    string result = string.Join(" ", c.Limit, c.BatchCount, c.SharedFactor, Tuned.SlabSpec.Limit, Tuned.SlabSpec.BatchCount, Tuned.SlabSpec.SharedFactor);
                    Tuned.Cache.Dispose();
                    return result;
                }
            }
            """;
        Assert.Equal("40 20 3 40 20 3", RunProbe(source));
    }

    /// <summary>
    /// A struct with a ctor that fills its 4096-byte class gets a 4104-byte slot (the free pointer goes after it), and
    /// enable_cpucache tunes by the slot: SlabSpec shows what the runtime gives a cache of that slot by itself.
    /// </summary>
    [Fact]
    public void A_ctor_struct_that_fills_its_class_is_tuned_by_its_slot_as_the_runtime_tunes_it()
    {
        string name = Unique("rt_full");
        string source = $$"""
            using SlabGen;
            namespace Rt;
            [SlabCache(Name = "{{name}}", Ctor = nameof(Init))]
            public unsafe partial struct Full
            {
                public fixed byte Data[4096];
                static void Init(ref Full f) => f.Data[0] = 1;
            }
            public static unsafe class Probe
            {
                static void Ctor(void* p) { }
                public static string Run()
                {
                    SlabCache generated = Full.Cache.Cache;
                    using SlabCache alone = SlabCache.Create("{{name}}_alone", new SlabCacheOptions { Size = Full.SlabSpec.Size, Ctor = &Ctor, Flags = SlabFlags.Panic })!;
                    int expectedShared = NodeTopology.Machine.CpuCount > 1 ? Full.SlabSpec.SharedFactor : 0;
                    string result = string.Join(" ", Full.SlabSpec.Limit, Full.SlabSpec.BatchCount, expectedShared, "|",
                        generated.Limit, generated.BatchCount, generated.SharedFactor, "|", alone.Limit, alone.BatchCount, alone.SharedFactor);
                    Full.Cache.Dispose();
                    return result;
                }
            }
            """;
        string[] parts = RunProbe(source).Split(" | ");
        Assert.Equal(3, parts.Length);
        Assert.Equal(parts[0], parts[1]);
        Assert.Equal(parts[0], parts[2]);
        Assert.StartsWith("8 4 ", parts[0]); // a slot above 4 KiB: limit 8, batch count 4
    }

    [Fact]
    public void Merge_makes_an_alias_of_the_size_class_cache()
    {
        string name = Unique("rt_small");
        string source = $$"""
            using SlabGen;
            namespace Rt;
            [SlabCache(Name = "{{name}}", Flags = SlabFlags.Merge)]
            public unsafe partial struct Small { public int A; public short B; }
            public static unsafe class Probe
            {
                public static string Run()
                {
                    Small* s = Small.Alloc();
                    s->A = 5;
                    Small.Free(s);
                    string result = string.Join(" ", Small.Cache.IsAlias, Small.Cache.Cache.Name, Small.Cache.Name,
                        System.Linq.Enumerable.Contains(Small.Cache.Cache.Aliases, "{{name}}"));
                    Small.Cache.Dispose();
                    return result;
                }
            }
            """;
        Assert.Equal($"True kmalloc-8 {name} True", RunProbe(source));
    }

    /// <summary>
    /// The generated code passes the assembly's name as the name scope: when another cache has the name already, the
    /// created cache and the merged alias are named <c>name@assembly</c> instead of failing in their type initializers.
    /// </summary>
    [Fact]
    public void A_taken_name_gets_the_assembly_as_its_scope_for_a_cache_and_an_alias()
    {
        string assembly = Unique("Probe");
        string owned = Unique("rt_owned");
        string merged = Unique("rt_merged");
        string source = $$"""
            using SlabGen;
            namespace Rt;
            [SlabCache(Name = "{{owned}}")]
            public partial struct Owned { public long A; }
            [SlabCache(Name = "{{merged}}", Flags = SlabFlags.Merge)]
            public partial struct Merged { public long A; }
            public static unsafe class Probe
            {
                public static string Run()
                {
                    using SlabCache first = SlabCache.Create("{{owned}}", 8, flags: SlabFlags.Panic)!;
                    using SlabCache second = SlabCache.Create("{{merged}}", 8, flags: SlabFlags.Panic)!;
                    Owned* o = Owned.Alloc();
                    Merged* m = Merged.Alloc();
                    Owned.Free(o);
                    Merged.Free(m);
                    string result = string.Join(" ", Owned.SlabSpec.NameScope, Owned.Cache.Name, Owned.Cache.Cache.Name, Merged.Cache.Name, Merged.Cache.IsAlias);
                    Owned.Cache.Dispose();
                    Merged.Cache.Dispose();
                    return result;
                }
            }
            """;
        GeneratorRun run = TestCompilation.Run(TestCompilation.Create(new[] { source }, assemblyName: assembly));
        Assert.Empty(run.Diagnostics);

        string result = InProcessAssembly.Invoke(InProcessAssembly.Emit(run.Output), "Rt.Probe", "Run");

        Assert.Equal($"{assembly} {owned}@{assembly} {owned}@{assembly} {merged}@{assembly} True", result);
    }

    /// <summary>
    /// A struct from another assembly keeps its StructLayout in metadata tables that Roslyn's symbols do not expose,
    /// so the generator lays out a <c>Pack = 1</c> struct as if it were sequential and gets its size wrong. The
    /// generated check catches that when the cache is created, with a message that says what happened.
    /// </summary>
    [Fact]
    public void A_layout_the_generator_gets_wrong_throws_at_cache_creation()
    {
        CSharpCompilationHelper library = CSharpCompilationHelper.Library("""
            using System.Runtime.InteropServices;
            namespace Lib;
            [StructLayout(LayoutKind.Sequential, Pack = 1)]
            public struct Packed { public byte A; public long B; }
            """);
        string name = Unique("rt_wrong");
        string source = $$"""
            using SlabGen;
            namespace Rt;
            [SlabCache(Name = "{{name}}")]
            public partial struct Holder { public Lib.Packed P; }
            public static class Probe
            {
                public static string Run()
                {
                    try
                    {
                        _ = Holder.Cache;
                        return "created";
                    }
                    catch (System.TypeInitializationException e) when (e.InnerException is System.InvalidOperationException inner)
                    {
                        return inner.Message + (SlabInfo.Read().Contains("{{name}}") ? " (listed)" : " (not listed)");
                    }
                }
            }
            """;
        GeneratorRun run = TestCompilation.Run(TestCompilation.Create(new[] { source }, extraReferences: new[] { library.Reference }));
        Assert.Empty(run.Diagnostics);
        Assert.Contains("public const int ObjectSize = 16;", Assert.Single(run.Sources).Value);

        string result = InProcessAssembly.Invoke(InProcessAssembly.Emit(run.Output), "Rt.Probe", "Run", library.Image);

        Assert.Equal("SlabGen computed sizeof(Rt.Holder) = 16 bytes from its fields at compile time, but the runtime says 9. "
            + "Its layout uses something SlabGen does not model (see docs/generator.md, 'Layout'), so the cache '" + name + "' was not created. (not listed)", result);
    }
}

/// <summary>A small library compiled on its own and referenced as metadata, the way a NuGet dependency is.</summary>
internal sealed record CSharpCompilationHelper(MetadataReference Reference, byte[] Image)
{
    public static CSharpCompilationHelper Library(string source)
    {
        var compilation = TestCompilation.Create(new[] { source }, assemblyName: "Lib_" + Guid.NewGuid().ToString("N"));
        byte[] image = InProcessAssembly.Emit(compilation);
        return new CSharpCompilationHelper(MetadataReference.CreateFromImage(image), image);
    }
}
