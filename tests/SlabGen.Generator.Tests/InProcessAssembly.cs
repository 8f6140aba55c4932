using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Emit;

namespace SlabGen.Generator.Tests;

/// <summary>
/// Emits a compilation and runs a static method of it in a collectible load context, then unloads it. The SlabGen
/// runtime it references resolves to the one this test process already loaded.
/// </summary>
internal static class InProcessAssembly
{
    public static byte[] Emit(Compilation compilation)
    {
        using var stream = new MemoryStream();
        EmitResult result = compilation.Emit(stream);
        if (!result.Success)
            throw new InvalidOperationException("emit failed:\n" + string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return stream.ToArray();
    }

    /// <summary>Loads <paramref name="image"/> (and <paramref name="dependencies"/>) and returns what <c>typeName.methodName()</c> returns.</summary>
    public static string Invoke(byte[] image, string typeName, string methodName, params byte[][] dependencies)
    {
        var context = new AssemblyLoadContext("slabgen-test-" + Guid.NewGuid().ToString("N"), isCollectible: true);
        try
        {
            foreach (byte[] dependency in dependencies)
                context.LoadFromStream(new MemoryStream(dependency));
            Assembly assembly = context.LoadFromStream(new MemoryStream(image));
            MethodInfo method = assembly.GetType(typeName, throwOnError: true)!.GetMethod(methodName, BindingFlags.Public | BindingFlags.Static)
                ?? throw new InvalidOperationException(typeName + "." + methodName + " not found");
            try
            {
                return (string)method.Invoke(null, null)!;
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
        }
        finally
        {
            context.Unload();
        }
    }
}
