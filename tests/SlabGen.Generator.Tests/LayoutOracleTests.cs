using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Xunit;

namespace SlabGen.Generator.Tests;

/// <summary>
/// The layout the generator computes equals the runtime's <c>sizeof(T)</c> for a broad set of layouts: each struct
/// is compiled with the generator, and the emitted assembly compares <c>T.SlabSpec.ObjectSize</c> with
/// <c>sizeof(T)</c> when it runs.
/// </summary>
public class LayoutOracleTests
{
    /// <summary>Name, declaration (the part after <c>partial struct Name</c>), and the size measured on .NET 10 x64.</summary>
    private static readonly (string Name, string Declaration, int Expected)[] Layouts =
    {
        ("ByteLong", "{ public byte A; public long B; }", 16),
        ("ByteIntByte", "{ public byte A; public int B; public byte C; }", 12),
        ("BoolChar", "{ public bool A; public char B; }", 4),
        ("BoolLongBool", "{ public bool A; public long B; public bool C; }", 24),
        ("ByteNint", "{ public byte A; public nint B; }", 16),
        ("ByteNuint", "{ public byte A; public nuint B; }", 16),
        ("ByteNullableLong", "{ public byte A; public long? B; }", 24),
        ("ByteNullableInt128", "{ public byte A; public System.Int128? B; }", 48),
        ("ByteDateTime", "{ public byte A; public System.DateTime B; public byte C; }", 24),
        ("ByteGuid", "{ public byte A; public System.Guid B; }", 20),
        ("ByteDecimal", "{ public byte A; public decimal B; }", 24),
        ("ByteInt128", "{ public byte A; public System.Int128 B; }", 32),
        ("ByteUInt128", "{ public byte A; public System.UInt128 B; }", 32),
        ("ByteHalf", "{ public byte A; public System.Half B; }", 4),
        ("ByteTimeSpan", "{ public byte A; public System.TimeSpan B; }", 16),
        ("ByteDateTimeOffset", "{ public byte A; public System.DateTimeOffset B; }", 24),
        ("ByteDateOnly", "{ public byte A; public System.DateOnly B; }", 8),
        ("ByteTimeOnly", "{ public byte A; public System.TimeOnly B; }", 16),
        ("ByteRune", "{ public byte A; public System.Text.Rune B; }", 8),
        ("ByteIndexRange", "{ public byte A; public System.Index B; public System.Range C; }", 16),
        ("ByteComplex", "{ public byte A; public System.Numerics.Complex B; }", 24),
        ("ByteVector2", "{ public byte A; public System.Numerics.Vector2 B; }", 12),
        ("ByteVector3", "{ public byte A; public System.Numerics.Vector3 B; }", 16),
        ("ByteVector4", "{ public byte A; public System.Numerics.Vector4 B; }", 20),
        ("ByteQuaternion", "{ public byte A; public System.Numerics.Quaternion B; }", 20),
        ("BytePlane", "{ public byte A; public System.Numerics.Plane B; }", 20),
        ("ByteMatrix3x2", "{ public byte A; public System.Numerics.Matrix3x2 B; }", 28),
        ("ByteMatrix4x4", "{ public byte A; public System.Numerics.Matrix4x4 B; }", 68),
        ("ByteVector64", "{ public byte A; public System.Runtime.Intrinsics.Vector64<float> B; }", 16),
        ("ByteVector128", "{ public byte A; public System.Runtime.Intrinsics.Vector128<float> B; }", 32),
        ("ByteVector256", "{ public byte A; public System.Runtime.Intrinsics.Vector256<int> B; }", 64),
        ("ByteVector512", "{ public byte A; public System.Runtime.Intrinsics.Vector512<byte> B; }", 128),
        ("ByteGcHandle", "{ public byte A; public System.Runtime.InteropServices.GCHandle B; }", 16),
        ("Pointers", "{ public byte A; public void* P; public int* Q; public delegate*<int, void> F; }", 32),
        ("Enums", "{ public ByteEnum A; public LongEnum B; public ByteEnum C; }", 24),
        ("Empty", "{ }", 1),
        ("OnlyStatics", "{ public static long S; public const int C = 1; }", 1),
        ("Pack1", "[StructLayout(LayoutKind.Sequential, Pack = 1)] partial struct Pack1 { public byte A; public long B; }", 9),
        ("Pack2", "[StructLayout(LayoutKind.Sequential, Pack = 2)] partial struct Pack2 { public byte A; public long B; }", 10),
        ("Pack16", "[StructLayout(LayoutKind.Sequential, Pack = 16)] partial struct Pack16 { public byte A; public long B; }", 16),
        ("Size64", "[StructLayout(LayoutKind.Sequential, Size = 64)] partial struct Size64 { public int A; }", 64),
        ("Size10Long", "[StructLayout(LayoutKind.Sequential, Size = 10)] partial struct Size10Long { public long A; }", 10),
        ("Size3Int", "[StructLayout(LayoutKind.Sequential, Size = 3)] partial struct Size3Int { public int A; }", 4),
        ("SizePack", "[StructLayout(LayoutKind.Sequential, Size = 20, Pack = 1)] partial struct SizePack { public long A; public byte B; }", 20),
        ("Explicit", "[StructLayout(LayoutKind.Explicit)] partial struct Explicit { [FieldOffset(0)] public int A; [FieldOffset(4)] public long B; }", 16),
        ("ExplicitPack1", "[StructLayout(LayoutKind.Explicit, Pack = 1)] partial struct ExplicitPack1 { [FieldOffset(0)] public int A; [FieldOffset(4)] public long B; }", 12),
        ("ExplicitPack2", "[StructLayout(LayoutKind.Explicit, Pack = 2)] partial struct ExplicitPack2 { [FieldOffset(0)] public byte A; [FieldOffset(1)] public long B; }", 10),
        ("ExplicitSize", "[StructLayout(LayoutKind.Explicit, Size = 13)] partial struct ExplicitSize { [FieldOffset(0)] public long A; }", 13),
        ("ExplicitUnion", "[StructLayout(LayoutKind.Explicit)] partial struct ExplicitUnion { [FieldOffset(0)] public long A; [FieldOffset(0)] public double B; [FieldOffset(0)] public byte C; }", 8),
        ("FixedBytesInt", "{ public fixed byte A[3]; public int B; }", 8),
        ("FixedLongs", "{ public byte A; public fixed long B[3]; }", 32),
        ("FixedChars", "{ public fixed char Name[13]; }", 26),
        ("InlineBytes", "{ public Bytes3 A; }", 3),
        ("InlineLongs", "{ public byte A; public Longs3 B; }", 32),
        ("Nested", "{ public byte A; public Inner B; public byte C; }", 32),
        ("NestedPacked", "{ public byte A; public PackedInner B; }", 12),
        ("NestedDeep", "{ public Outer A; public short B; }", 48),
        ("NestedExplicit", "{ public byte A; public ExplicitInner B; }", 24),
        ("NestedSlabCache", "{ public byte A; public ByteLong B; }", 24),
        ("AutoProperties", "{ public byte A { get; set; } public long B { get; init; } }", 16),
        ("RecordStruct", "record struct RecordStruct(byte A, long B, byte C) ", 24),
        ("ReadonlyFields", "{ public readonly short A; public readonly double B; }", 16),
        ("PrimaryNotCaptured", "(int x) { public int X = x; public long Y; }", 16),
        ("LargeFixed", "{ public int Length; public fixed byte Data[1500]; }", 1504),
        ("Huge", "{ public fixed long Data[65536]; }", 524288),
    };

    private const string Helpers = """
        public enum ByteEnum : byte { A }
        public enum LongEnum : long { A }
        public struct Inner { public byte A; public long B; }
        [StructLayout(LayoutKind.Sequential, Pack = 2)] public struct PackedInner { public byte A; public long B; }
        public struct Outer { public Inner A; public byte B; public int C; public Inner D; }
        [StructLayout(LayoutKind.Explicit)] public struct ExplicitInner { [FieldOffset(0)] public int A; [FieldOffset(8)] public long B; [FieldOffset(4)] public short C; }
        [System.Runtime.CompilerServices.InlineArray(3)] public struct Bytes3 { private byte _b; }
        [System.Runtime.CompilerServices.InlineArray(3)] public struct Longs3 { private long _l; }
        """;

    [Fact]
    public void The_computed_size_equals_the_runtime_sizeof()
    {
        var source = new StringBuilder();
        source.AppendLine("using System.Runtime.InteropServices;");
        source.AppendLine("using SlabGen;");
        source.AppendLine("#pragma warning disable CS0169, CS0649 // fields only for layout");
        source.AppendLine("namespace Oracles;");
        source.AppendLine(Helpers);
        foreach ((string name, string declaration, _) in Layouts)
        {
            source.AppendLine("[SlabCache]");
            if (declaration.StartsWith("[", StringComparison.Ordinal))
                source.AppendLine(declaration.Replace(" partial struct ", " public unsafe partial struct ", StringComparison.Ordinal));
            else if (declaration.StartsWith("record", StringComparison.Ordinal))
                source.AppendLine("public partial " + declaration + ";");
            else
                source.AppendLine("public unsafe partial struct " + name + declaration);
        }
        source.AppendLine("public static unsafe class Oracle");
        source.AppendLine("{");
        source.AppendLine("    public static string Run() => string.Join(\"\\n\", new string[]");
        source.AppendLine("    {");
        foreach ((string name, _, _) in Layouts)
            source.AppendLine($"        \"{name} \" + {name}.SlabSpec.ObjectSize + \" \" + sizeof({name}),");
        source.AppendLine("    });");
        source.AppendLine("}");

        GeneratorRun run = TestCompilation.Run(source.ToString());
        Assert.Empty(run.Diagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        Assert.Equal(Layouts.Length, run.Sources.Count);

        string report = InProcessAssembly.Invoke(InProcessAssembly.Emit(run.Output), "Oracles.Oracle", "Run");
        var rows = report.Split('\n').Select(line => line.Split(' ')).ToDictionary(p => p[0], p => (Computed: int.Parse(p[1]), Actual: int.Parse(p[2])));
        var wrong = new List<string>();
        foreach ((string name, _, int expected) in Layouts)
        {
            (int computed, int actual) = rows[name];
            if (computed != actual || actual != expected)
                wrong.Add($"{name}: computed {computed}, sizeof {actual}, table {expected}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }
}
