using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>
/// Every SLAB diagnostic is reported at the marked place, and where one is reported nothing is generated for that
/// struct: the user sees the diagnostic and no error from generated code.
/// </summary>
public class DiagnosticTests
{
    public static IEnumerable<object[]> Cases() => new[]
    {
        new object[] { "SLAB001 struct not partial", """
            using SlabGen;
            [SlabCache] public struct {|SLAB001:Packet|} { public int A; }
            """ },
        new object[] { "SLAB002 containing class not partial", """
            using SlabGen;
            public class {|SLAB002:Outer|} { [SlabCache] public partial struct Packet { public int A; } }
            """ },
        new object[] { "SLAB002 each non-partial container", """
            using SlabGen;
            public class {|SLAB002:A|} { public partial class B { public struct {|SLAB002:C|} { [SlabCache] public partial struct Packet { public int A; } } } }
            """ },
        new object[] { "SLAB003 reference-type field, named", """
            using SlabGen;
            [SlabCache] public partial struct Packet { public int A; public string {|SLAB003:Name|}; }
            """ },
        new object[] { "SLAB003 reference type inside a nested struct", """
            using SlabGen;
            public struct Header { public object Tag; }
            [SlabCache] public partial struct Packet { public int A; public Header {|SLAB003:H|}; }
            """ },
        new object[] { "SLAB003 auto-property holding a reference", """
            using SlabGen;
            [SlabCache] public partial struct Packet { public int[] {|SLAB003:Items|} { get; set; } }
            """ },
        new object[] { "SLAB003 ref struct", """
            using SlabGen;
            [SlabCache] public ref partial struct {|SLAB003:Packet|} { public int A; }
            """ },
        new object[] { "SLAB004 generic struct", """
            using SlabGen;
            [SlabCache] public partial struct {|SLAB004:Packet|}<T> where T : unmanaged { public T A; }
            """ },
        new object[] { "SLAB004 nested in a generic type", """
            using SlabGen;
            public partial class Outer<T> { [SlabCache] public partial struct {|SLAB004:Packet|} { public int A; } }
            """ },
        new object[] { "SLAB005 ctor names nothing", """
            using SlabGen;
            [SlabCache(Ctor = {|SLAB005:"Setup"|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB005 ctor names a field", """
            using SlabGen;
            [SlabCache(Ctor = {|SLAB005:nameof(A)|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB006 ctor not static", """
            using SlabGen;
            [SlabCache(Ctor = nameof(Init))] public partial struct Packet { public int A; void {|SLAB006:Init|}(ref Packet p) { } }
            """ },
        new object[] { "SLAB006 ctor by value", """
            using SlabGen;
            [SlabCache(Ctor = nameof(Init))] public partial struct Packet { public int A; static void {|SLAB006:Init|}(Packet p) { } }
            """ },
        new object[] { "SLAB006 ctor returns a value", """
            using SlabGen;
            [SlabCache(Ctor = nameof(Init))] public partial struct Packet { public int A; static int {|SLAB006:Init|}(ref Packet p) => 0; }
            """ },
        new object[] { "SLAB006 ctor takes another type", """
            using SlabGen;
            [SlabCache(Ctor = nameof(Init))] public partial struct Packet { public int A; static void {|SLAB006:Init|}(ref int p) { } }
            """ },
        new object[] { "SLAB006 ctor takes in", """
            using SlabGen;
            [SlabCache(Ctor = nameof(Init))] public partial struct Packet { public int A; static void {|SLAB006:Init|}(in Packet p) { } }
            """ },
        new object[] { "SLAB007 align not a power of two", """
            using SlabGen;
            [SlabCache(Align = {|SLAB007:24|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB007 align above 4096", """
            using SlabGen;
            [SlabCache(Align = {|SLAB007:8192|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB007 negative align", """
            using SlabGen;
            [SlabCache(Align = {|SLAB007:-8|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB008 negative limit", """
            using SlabGen;
            [SlabCache(Limit = {|SLAB008:-1|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB008 limit above 4096", """
            using SlabGen;
            [SlabCache(Limit = {|SLAB008:5000|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB009 batch above limit", """
            using SlabGen;
            [SlabCache(Limit = 10, BatchCount = {|SLAB009:11|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB009 batch above the tuned limit", """
            using SlabGen;
            [SlabCache(BatchCount = {|SLAB009:121|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB009 negative batch", """
            using SlabGen;
            [SlabCache(BatchCount = {|SLAB009:-2|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB010 negative shared factor", """
            using SlabGen;
            [SlabCache(SharedFactor = {|SLAB010:-1|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB010 shared factor above 64", """
            using SlabGen;
            [SlabCache(SharedFactor = {|SLAB010:65|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB011 same name twice", """
            using SlabGen;
            [SlabCache(Name = {|SLAB011:"pkt"|})] public partial struct A { public int X; }
            [SlabCache(Name = {|SLAB011:"pkt"|})] public partial struct B { public int X; }
            [SlabCache(Name = "other")] public partial struct C { public int X; }
            """ },
        new object[] { "SLAB011 same default name in two namespaces", """
            using SlabGen;
            namespace N1 { [SlabCache] public partial struct {|SLAB011:Packet|} { public int X; } }
            namespace N2 { [SlabCache] public partial struct {|SLAB011:Packet|} { public int X; } }
            """ },
        new object[] { "SLAB012 too large", """
            using SlabGen;
            [SlabCache] public unsafe partial struct {|SLAB012:Huge|} { public fixed byte Data[4194305]; }
            """ },
        new object[] { "SLAB012 a 4 MiB class leaves no room for the ctor's free pointer", """
            using SlabGen;
            [SlabCache(Ctor = nameof(Init))] public unsafe partial struct {|SLAB012:Huge|} { public fixed byte Data[4194304]; static void Init(ref Huge h) { } }
            """ },
        new object[] { "SLAB014 merge with a ctor", """
            using SlabGen;
            [SlabCache(Flags = {|SLAB014:SlabFlags.Merge|}, Ctor = nameof(Init))] public partial struct Packet { public int A; static void Init(ref Packet p) { } }
            """ },
        new object[] { "SLAB014 merge with NoMerge", """
            using SlabGen;
            [SlabCache(Flags = {|SLAB014:SlabFlags.Merge | SlabFlags.NoMerge|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB014 merge with a debug flag", """
            using SlabGen;
            [SlabCache(Flags = {|SLAB014:SlabFlags.Merge | SlabFlags.RedZone|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB014 merge with HwCacheAlign", """
            using SlabGen;
            [SlabCache(Flags = {|SLAB014:SlabFlags.Merge | SlabFlags.HwCacheAlign|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB014 merge with own tunables", """
            using SlabGen;
            [SlabCache(Limit = 16, Flags = {|SLAB014:SlabFlags.Merge|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB014 merge above the kmalloc caches", """
            using SlabGen;
            [SlabCache(Flags = {|SLAB014:SlabFlags.Merge|})] public unsafe partial struct Packet { public fixed byte Data[9000]; }
            """ },
        new object[] { "SLAB015 Vector<T>", """
            using SlabGen;
            [SlabCache] public partial struct Packet { public int A; public System.Numerics.Vector<float> {|SLAB015:V|}; }
            """ },
        new object[] { "SLAB015 value tuple inside a nested struct", """
            using SlabGen;
            public struct Pair { public (int, long) P; }
            [SlabCache] public partial struct Packet { public int A; public Pair {|SLAB015:Inner|}; }
            """ },
        new object[] { "SLAB015 LayoutKind.Auto", """
            using SlabGen;
            using System.Runtime.InteropServices;
            [SlabCache, StructLayout(LayoutKind.Auto)] public partial struct {|SLAB015:Packet|} { public byte A; public long B; }
            """ },
        new object[] { "SLAB015 fields in two partial declarations", """
            using SlabGen;
            #pragma warning disable CS0282
            [SlabCache] public partial struct {|SLAB015:Packet|} { public byte A; }
            public partial struct Packet { public long B; }
            """ },
        new object[] { "SLAB015 captured primary constructor parameter", """
            using SlabGen;
            [SlabCache] public partial struct {|SLAB015:Packet|}(int size) { public int Size => size; }
            """ },
        new object[] { "SLAB015 BCL struct whose fields the reference assembly hides", """
            using SlabGen;
            [SlabCache] public partial struct Packet { public System.Threading.SpinLock {|SLAB015:Lock|}; }
            """ },
        new object[] { "SLAB016 name with whitespace", """
            using SlabGen;
            [SlabCache(Name = {|SLAB016:"my cache"|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB016 name too long", """
            using SlabGen;
            [SlabCache(Name = {|SLAB016:"a123456789b123456789c123456789d123456789e123456789f123456789g12345"|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB016 name with an invisible format character", """
            using SlabGen;
            [SlabCache(Name = {|SLAB016:"pkt\u200B"|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB016 default name too long", """
            using SlabGen;
            [SlabCache] public partial struct {|SLAB016:AStructWhoseNameIsFarTooLongToBeACacheNameInSlabinfoWhichStopsAtSixtyFour|} { public int A; }
            """ },
        new object[] { "SLAB016 kmalloc name", """
            using SlabGen;
            [SlabCache(Name = {|SLAB016:"kmalloc-64"|})] public partial struct Packet { public int A; }
            """ },
        new object[] { "SLAB017 member named Alloc", """
            using SlabGen;
            [SlabCache] public partial struct Packet { public int A; public static void {|SLAB017:Alloc|}(int n) { } }
            """ },
        new object[] { "SLAB017 field named Cache and nested type named SlabSpec", """
            using SlabGen;
            [SlabCache] public partial struct Packet { public int {|SLAB017:Cache|}; public class {|SLAB017:SlabSpec|} { } }
            """ },
        new object[] { "SLAB017 method named RentHandle", """
            using SlabGen;
            [SlabCache] public partial struct Packet { public int A; public void {|SLAB017:RentHandle|}() { } }
            """ },
        new object[] { "SLAB017 struct named like a generated member", """
            using SlabGen;
            [SlabCache] public partial struct {|SLAB017:Rent|} { public int A; }
            """ },
        new object[] { "SLAB019 file-local struct", """
            using SlabGen;
            [SlabCache] file partial struct {|SLAB019:Packet|} { public int A; }
            """ },
        new object[] { "SLAB019 file-local container", """
            using SlabGen;
            file partial class {|SLAB019:Outer|} { [SlabCache] public partial struct Packet { public int A; } }
            """ },
        new object[] { "several problems at once", """
            using SlabGen;
            [SlabCache(Align = {|SLAB007:3|}, Limit = {|SLAB008:-5|}, Ctor = {|SLAB005:"Nope"|})] public struct {|SLAB001:Packet|} { public int A; }
            """ },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_diagnostic_is_reported_at_the_marked_place(string name, string markup)
    {
        Markup parsed = Markup.Parse(markup);
        GeneratorRun run = TestCompilation.Run(parsed.Source);

        var actual = run.Diagnostics.Select(d => (d.Id, d.Location.SourceSpan)).OrderBy(d => d.SourceSpan.Start).ThenBy(d => d.Id).ToList();
        var expected = parsed.Expected.OrderBy(d => d.Span.Start).ThenBy(d => d.Id).ToList();
        Assert.True(expected.SequenceEqual(actual),
            name + "\nexpected: " + string.Join(", ", expected) + "\nactual:   " + string.Join("\n", run.Diagnostics));
        Assert.All(run.Diagnostics, d =>
        {
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            Assert.Equal("Test0.cs", d.Location.GetLineSpan().Path);
            Assert.StartsWith("https://", d.Descriptor.HelpLinkUri);
            Assert.EndsWith("#" + d.Id.ToLowerInvariant(), d.Descriptor.HelpLinkUri);
        });

        // Nothing is generated for a struct with a diagnostic, so no error comes from generated code.
        Assert.DoesNotContain(run.Output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error
            && d.Location.SourceTree is { } tree && !run.Input.SyntaxTrees.Contains(tree));
        if (name == "SLAB011 same name twice")
            Assert.Single(run.Sources); // only "other"
        else
            Assert.Empty(run.Sources);
    }

    [Fact]
    public void Unsafe_code_not_allowed_is_reported_on_each_struct_instead_of_generating()
    {
        Markup parsed = Markup.Parse("""
            using SlabGen;
            [SlabCache] public partial struct {|SLAB013:A|} { public int X; }
            [SlabCache] public partial struct {|SLAB013:B|} { public int X; }
            """);
        GeneratorRun run = TestCompilation.Run(TestCompilation.Create(new[] { parsed.Source }, allowUnsafe: false));

        Assert.Equal(parsed.Expected.Select(e => ("SLAB013", e.Span)), run.Diagnostics.Select(d => (d.Id, d.Location.SourceSpan)).OrderBy(d => d.SourceSpan.Start));
        Assert.Empty(run.Sources);
        Assert.DoesNotContain(run.Output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void A_language_version_below_9_is_reported_instead_of_generating()
    {
        Markup parsed = Markup.Parse("""
            using SlabGen;
            [SlabCache] public partial struct {|SLAB018:A|} { public int X; }
            """);
        var options = new CSharpParseOptions(LanguageVersion.CSharp8);
        GeneratorRun run = TestCompilation.Run(TestCompilation.Create(new[] { parsed.Source }, parseOptions: options));

        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        Assert.Equal("SLAB018", diagnostic.Id);
        Assert.Equal(parsed.Expected[0].Span, diagnostic.Location.SourceSpan);
        Assert.Contains("C# 8.0", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void Messages_name_what_is_wrong()
    {
        GeneratorRun run = TestCompilation.Run("""
            using SlabGen;
            namespace Demo;
            public struct Header { public int Length; public string Name; }
            [SlabCache] public partial struct Packet { public long Id; public Header H; }
            """);
        string message = Assert.Single(run.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("'Demo.Packet' is not an unmanaged type: field 'H.Name' is of type 'string', which is a reference type or holds one", message);
    }

    /// <summary>A name the runtime would refuse is SLAB016 with the runtime's own reason, quoted as the runtime quotes it.</summary>
    [Theory]
    [InlineData("\"my cache\"", "The cache name 'my cache' contains whitespace (U+0020) at index 2; slabinfo rows are split on whitespace")]
    [InlineData("\"pkt\\u200B\"", "The cache name 'pkt\\u200B' contains an invisible format character (U+200B: zero-width, bidi or similar) at index 3; names must print unambiguously in slabinfo")]
    [InlineData("\"\"", "The cache name '' must be 1 to 64 characters long")]
    [InlineData("\"kmalloc-64\"", "The cache name 'kmalloc-64' starts with 'kmalloc-', which names the kmalloc size-class caches")]
    public void An_invalid_name_is_reported_with_the_runtime_reason(string nameLiteral, string expected)
    {
        GeneratorRun run = TestCompilation.Run("using SlabGen;\n[SlabCache(Name = " + nameLiteral + ")] public partial struct Packet { public int A; }");
        string message = Assert.Single(run.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, message);
    }

    [Fact]
    public void A_default_name_the_runtime_would_refuse_says_to_give_a_name()
    {
        GeneratorRun run = TestCompilation.Run("using SlabGen;\n[SlabCache] public partial struct AStructWhoseNameIsFarTooLongToBeACacheNameInSlabinfoWhichStopsAtSixtyFour { public int A; }");
        string message = Assert.Single(run.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.EndsWith("must be 1 to 64 characters long; it is the struct's name in snake_case: give the cache a Name", message);
    }

    [Fact]
    public void The_too_large_message_gives_the_slot_size()
    {
        GeneratorRun run = TestCompilation.Run("""
            using SlabGen;
            [SlabCache(Ctor = nameof(Init))] public unsafe partial struct Huge { public fixed byte Data[4194304]; static void Init(ref Huge h) { } }
            """);
        string message = Assert.Single(run.Diagnostics).GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("'Huge' needs 4194312-byte slab slots (4194304-byte objects in the 4194304-byte size class); a slab cache holds slots of at most 4194304 bytes", message);
    }
}
